import path from 'node:path';
import { jestConfig } from '../../jest.preset.js';

// The cluster tier: a real node runs pods from the service images (root on Linux only). It also runs
// the migration proofs of packages/migrate/test/cluster, so every real-pod test shares one stack and
// one chart install.
const config = jestConfig(import.meta.dirname);
const migrateDir = path.resolve(import.meta.dirname, '../migrate');
export default {
  ...config,
  displayName: 'testenv-cluster',
  roots: ['<rootDir>', migrateDir],
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts', `${migrateDir}/test/cluster/**/*.test.ts`],
  globalSetup: path.resolve(import.meta.dirname, '../../tools/jest/cluster-stack-setup.js'),
  testTimeout: 300_000,
  maxWorkers: 1,
};
