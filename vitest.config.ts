import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real servers on loopback: keep the two cores busy without starving the fake Telegram.
    pool: "forks",
    maxWorkers: 2,
  },
});
