import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Each worker process keeps its loaded modules from one test file to the next: loading
    // discord.js, Bolt, PGlite and the SDKs again for every file cost more than half the run. Tests
    // own their state (a database, a Redis prefix, ports), so sharing a process changes nothing else.
    isolate: false,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
