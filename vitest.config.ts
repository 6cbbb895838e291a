import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Docker and daemon tests share one engine and two cores: files run in parallel, but not too many.
    maxWorkers: 2,
    pool: 'forks',
  },
});
