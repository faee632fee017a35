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
  // A worker has 500 ms by default to exit once the run is over before Jest kills it and prints "A worker process
  // has failed to exit gracefully". On a 2-core machine shared by several test runs (load 13-16), workers that hold
  // nothing open took longer than that in 3 runs of 7, and in none of 6 with 5 s; a worker that really hangs is
  // still killed, and reported, after 5 s.
  workerGracefulExitTimeout: 5000,
};
