import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { storeTestProblems, type JsonReport } from "./store-tests-ran.js";

const ROOT = resolve(import.meta.dirname, "../..");

function report(tests: Array<[string, string]>): JsonReport {
  return { testResults: [{ name: "/x/store.test.ts", assertionResults: tests.map(([fullName, status]) => ({ fullName, status })) }] };
}

const ALL_RAN = report([
  ["redis store (REDIS_URL) round-trips values", "passed"],
  ["history on postgres (DATABASE_URL) keeps turns", "passed"],
  ["memory on PostgreSQL (DATABASE_URL) survives a restart", "passed"],
  ["sqlite store works", "passed"],
  // Does not need the server (it refuses a connection on purpose): not one of those the variable asks for.
  ["reports a refused redis connection on open", "passed"],
]);

describe("the CI guard against skipped store tests", () => {
  const both = { REDIS_URL: "redis://x", DATABASE_URL: "postgres://x" };

  it("passes when every configured backend's tests passed", () => {
    expect(storeTestProblems(ALL_RAN, both)).toEqual([]);
  });

  it("fails on a store test that was skipped while its server's variable is set", () => {
    const skipped = report([
      ["redis store (REDIS_URL) round-trips values", "skipped"],
      ["memory on PostgreSQL (DATABASE_URL) survives a restart", "pending"],
    ]);
    expect(storeTestProblems(skipped, both)).toEqual([
      'REDIS_URL is set but the Redis test "redis store (REDIS_URL) round-trips values" was skipped',
      'DATABASE_URL is set but the PostgreSQL test "memory on PostgreSQL (DATABASE_URL) survives a restart" was pending',
    ]);
  });

  it("fails when no test of a configured backend ran at all", () => {
    expect(storeTestProblems(report([["sqlite store works", "passed"], ["reports a refused redis connection", "passed"]]), both)).toEqual([
      "REDIS_URL is set but no Redis test ran",
      "DATABASE_URL is set but no PostgreSQL test ran",
    ]);
  });

  it("asks nothing of a backend whose variable is not set", () => {
    const skipped = report([["redis store (REDIS_URL) round-trips values", "skipped"]]);
    expect(storeTestProblems(skipped, {})).toEqual([]);
  });

  it("exits non-zero from the command line, as .ci/run runs it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "store-guard-"));
    try {
      const file = join(dir, "report.json");
      await writeFile(file, JSON.stringify(report([["redis store (REDIS_URL) round-trips values", "skipped"]])));
      const run = (env: Record<string, string>) =>
        spawnSync(join(ROOT, "node_modules/.bin/tsx"), [join(ROOT, "test/ci/store-tests-ran.ts"), file], {
          env: { PATH: process.env.PATH ?? "", ...env },
          encoding: "utf8",
        });
      const failing = run({ REDIS_URL: "redis://x" });
      expect(failing.status).toBe(1);
      expect(failing.stderr).toContain("was skipped");
      expect(run({}).status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
