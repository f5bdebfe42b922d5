import { jestConfig } from '../../jest.preset.js';

const config = jestConfig(import.meta.dirname);
// The cluster tier (a real node, root only) runs with `npm run test:cluster` (jest.cluster.config.js).
export default { ...config, testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'] };
