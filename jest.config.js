/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // tsconfig's isolatedModules makes ts-jest transpile only, which keeps the suite fast;
  // type-checking runs once, in `npm run typecheck`.
  transform: { '^.+\\.ts$': 'ts-jest' },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 30000,
  // Integration suites spawn brokers and connector processes; two workers match the 2-core machines.
  maxWorkers: 2,
};
