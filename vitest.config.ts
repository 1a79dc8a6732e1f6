import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests bind real loopback ports; a bounded pool keeps a 2-core machine responsive.
    pool: 'forks',
    maxWorkers: 2,
  },
});
