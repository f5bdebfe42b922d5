import { jestConfig } from '../../jest.preset.js';

const config = jestConfig(import.meta.dirname);
// test/cluster runs in real pods: the cluster tier (packages/testenv, npm run test:cluster) runs it.
export default { ...config, testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'] };
