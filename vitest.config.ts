import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One stack serves every file.
    pool: "forks",
    // Refusal tests compare table counts before and after: files run one at a time.
    fileParallelism: false,
  },
});
