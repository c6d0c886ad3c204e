/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Transpile only (isolatedModules): `npm run typecheck` type-checks src and test once, where
  // ts-jest's language service type-checked every file again in each worker (a minute of CPU in
  // a cold run of the suite, on a 2-core machine).
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }] },
  setupFiles: ['reflect-metadata'],
  // A folder per run for the seeded embedded database that test gateways start from (test/helpers/embedded-template.ts).
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // Integration suites each boot an embedded PostgreSQL; two workers keep the 2-core machine responsive.
  maxWorkers: 2,
  testTimeout: 30000,
};
