/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['reflect-metadata'],
  // Integration suites each boot an embedded PostgreSQL; two workers keep the 2-core machine responsive.
  maxWorkers: 2,
  testTimeout: 30000,
};
