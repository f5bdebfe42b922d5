// Shared jest configuration. The workspace is ESM (client-node is ESM-only): jest runs with
// --experimental-vm-modules, @swc/jest strips types, tsc -b type-checks separately.
import path from 'node:path';

const root = import.meta.dirname;

/** @param {string} packageDir @returns {import('jest').Config} */
export function jestConfig(packageDir) {
  return {
    rootDir: packageDir,
    displayName: path.basename(packageDir),
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts'],
    testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        { jsc: { parser: { syntax: 'typescript' }, target: 'es2024' }, module: { type: 'es6' } },
      ],
    },
    // Workspace packages resolve to their sources, so tests never need a build step in between.
    moduleNameMapper: {
      '^@vaultbridge/(core|testenv|agent|injector|csi-provider|operator|migrate)$': path.join(
        root,
        'packages/$1/src/index.ts',
      ),
      // the agent's contract entry, which the webhook imports
      '^@vaultbridge/agent/contract$': path.join(root, 'packages/agent/src/contract/index.ts'),
      // core's subpath entries (package.json exports): the same source files, so classes stay one class.
      '^@vaultbridge/core/(vault|auth|template|retry|runtime|kube|encoding|regex)$': path.join(
        root,
        'packages/core/src/$1/index.ts',
      ),
    },
    globalSetup: path.join(root, 'tools/jest/stack-setup.js'),
    globalTeardown: path.join(root, 'tools/jest/stack-teardown.js'),
    testTimeout: 60_000,
    maxWorkers: 2,
  };
}
