/**
 * CI's guard against store tests that skip silently: given vitest's JSON report, fails when REDIS_URL (or
 * DATABASE_URL) is set but a test that needs that server did not pass, or when no such test ran at all (renamed or
 * removed). A test that needs a server names its variable in its title, e.g. `describe("redis store (REDIS_URL)")`.
 * `.ci/run` sets both variables, runs the tests with the JSON reporter, then this:
 *
 *   npx tsx test/ci/store-tests-ran.ts <report.json>
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The parts of vitest's JSON report (Jest's format) read here. */
export interface JsonReport {
  testResults: Array<{ name: string; assertionResults: Array<{ fullName: string; status: string }> }>;
}

const BACKENDS = [
  { name: "Redis", variable: "REDIS_URL" },
  { name: "PostgreSQL", variable: "DATABASE_URL" },
] as const;

/** One line per problem; empty when every store test whose server is configured ran and passed. */
export function storeTestProblems(report: JsonReport, env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const backend of BACKENDS) {
    if (!env[backend.variable]) continue;
    const tests = report.testResults.flatMap((file) =>
      file.assertionResults.filter((t) => t.fullName.includes(`(${backend.variable})`)).map((t) => ({ ...t, file: file.name })),
    );
    if (tests.length === 0) problems.push(`${backend.variable} is set but no ${backend.name} test ran`);
    for (const t of tests) {
      if (t.status !== "passed") problems.push(`${backend.variable} is set but the ${backend.name} test "${t.fullName}" was ${t.status}`);
    }
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write("usage: store-tests-ran <vitest-json-report>\n");
    process.exit(2);
  }
  const report = JSON.parse(readFileSync(path, "utf8")) as JsonReport;
  const problems = storeTestProblems(report, process.env);
  for (const line of problems) process.stderr.write(`${line}\n`);
  process.exit(problems.length > 0 ? 1 : 0);
}
