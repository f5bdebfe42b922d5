import path from 'node:path';
import { jestConfig } from '../../jest.preset.js';

// The cluster tier: a real node runs pods from the service images (root on Linux only).
const config = jestConfig(import.meta.dirname);
export default {
  ...config,
  displayName: 'testenv-cluster',
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  globalSetup: path.resolve(import.meta.dirname, '../../tools/jest/cluster-stack-setup.js'),
  testTimeout: 300_000,
  maxWorkers: 1,
};
