/**
 * Start-up and memory as an operator meets them: how long from `npm start` (and from the start script's own
 * `node …` without npm) until the bot polls Telegram for the first time, how long until a bad configuration is reported, and how much memory the
 * idle bot holds. The flood section of bench/run.ts reports the peak while 60 chats stream.
 *
 *   npx tsx bench/startup.ts        (after `npm run build`; bench/run.ts builds first)
 *
 * Every run is a fresh process against the local Bot API and OpenAI test servers (the Bot API with the same simulated
 * round trip as the other sections). The machine may be shared: each figure is the best and the median of several
 * runs, timed from the spawn in this process to the arrival of the request at the test server (both Date.now()).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startBotApiServer } from "../test/servers/bot-api.js";
import { startOpenAIServer } from "../test/servers/openai.js";

const ROOT = resolve(import.meta.dirname, "..");
const RTT_MS = Number(process.env.BENCH_RTT_MS ?? 20);
/** Targets of issue 9. */
export const TARGETS = { startMs: 1500, configErrorMs: 1000, idleRssMb: 110, peakRssMb: 140 } as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What `npm start` runs: package.json's start script, `node [V8 flags] <script>`. The benchmarks start the bot
 * process with exactly these arguments, so they measure what operators run.
 */
export function startCommand(): { args: string[]; label: string } {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
  const words = pkg.scripts.start.trim().split(/\s+/);
  const isScript = (w: string) => /\.[cm]?js$/.test(w);
  if (words[0] !== "node" || !isScript(words.at(-1)!)) throw new Error(`start script is not "node [flags] file.js": ${pkg.scripts.start}`);
  return { args: words.slice(1).map((w) => (isScript(w) ? join(ROOT, w) : w)), label: pkg.scripts.start };
}

/** How the bot is started: as an operator does (`npm start`: npm, then the start script) or the start script alone. */
export type Launch = "npm start" | "node";

function launch(how: Launch, env: Record<string, string>, cwd: string): ChildProcess {
  const full = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), ...env };
  // Its own process group, so npm, its shell and the bot under it are stopped together.
  return how === "npm start"
    ? spawn("npm", ["start"], { cwd: ROOT, env: full, stdio: ["ignore", "pipe", "pipe"], detached: true })
    : spawn(process.execPath, startCommand().args, { cwd, env: full, stdio: ["ignore", "pipe", "pipe"], detached: true });
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    process.kill(-child.pid!, "SIGTERM");
  } catch {
    // already gone
  }
  return exited;
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}

interface StartRun {
  /** Spawn → first getUpdates arrives at the Bot API. */
  ms: number;
  /** RSS of the bot process once it has been idle for a few seconds (runs of the process alone only). */
  idleRssMb?: number;
  peakRssMb?: number;
}

/** One start: spawn, wait for the first getUpdates, optionally wait and read the idle memory, stop. */
async function startOnce(how: Launch, idleMs: number): Promise<StartRun> {
  const telegram = await startBotApiServer({ latencyMs: RTT_MS });
  const openai = await startOpenAIServer();
  const dir = await mkdtemp(join(tmpdir(), "bench-startup-"));
  // A message waiting in a group, not addressed to the bot: the first getUpdates returns at once and is recorded
  // with its arrival time, and the bot has nothing to answer.
  const user = { id: 777_001, first_name: "Idle", language_code: "en" };
  telegram.addUser(user);
  telegram.addChat({ id: -777_001, type: "supergroup", title: "Idle" });
  telegram.userSends({ chat: -777_001, from: user, text: "just people talking" });
  let output = "";
  const started = Date.now();
  const child = launch(
    how,
    {
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      OPENAI_API_KEY: openai.apiKey,
      OPENAI_BASE_URL: openai.baseURL,
      STORE_URL: `sqlite://${join(dir, "bot.sqlite")}`,
      LOG_LEVEL: "warn",
    },
    dir,
  );
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  try {
    const deadline = started + 60_000;
    let first = telegram.calls.find((c) => c.method === "getUpdates");
    while (!first) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${how}: no getUpdates: ${output}`);
      await sleep(5);
      first = telegram.calls.find((c) => c.method === "getUpdates");
    }
    const run: StartRun = { ms: first.at - started };
    if (idleMs > 0) {
      await sleep(idleMs);
      const memory = memoryOf(child.pid!);
      run.idleRssMb = memory.rssMb;
      run.peakRssMb = memory.peakMb;
    }
    return run;
  } finally {
    await stopGroup(child);
    await telegram.close();
    await openai.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface ConfigErrorRun {
  ms: number;
  code: number | null;
  stderr: string;
}

/** A malformed TELEGRAM_BOT_TOKEN: spawn → the process has exited. */
async function configErrorOnce(how: Launch): Promise<ConfigErrorRun> {
  const dir = await mkdtemp(join(tmpdir(), "bench-config-"));
  let stderr = "";
  const started = Date.now();
  const child = launch(how, { TELEGRAM_BOT_TOKEN: "not-a-token", OPENAI_API_KEY: "sk-test", STORE_URL: `sqlite://${join(dir, "bot.sqlite")}` }, dir);
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  const ms = Date.now() - started;
  await rm(dir, { recursive: true, force: true });
  return { ms, code, stderr };
}

function bestAndMedian(values: number[]): { best: number; median: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { best: sorted[0] ?? NaN, median: sorted[Math.floor(sorted.length / 2)] ?? NaN };
}

export interface StartupResult {
  start: Record<Launch, { best: number; median: number }>;
  configError: Record<Launch, { best: number; median: number; lines: number; code: number | null; message: string }>;
  idleRssMb: { best: number; median: number };
  runs: number;
}

export async function runStartupBench(opts: { runs?: number; idleMs?: number } = {}): Promise<StartupResult> {
  const runs = opts.runs ?? 5;
  const idleMs = opts.idleMs ?? 3000;
  const launches: Launch[] = ["npm start", "node"];
  const startTimes: Record<Launch, number[]> = { "npm start": [], node: [] };
  const idle: number[] = [];
  const errors: Record<Launch, ConfigErrorRun[]> = { "npm start": [], node: [] };
  // Interleaved, so a burst of load elsewhere on the machine hits every kind of run alike.
  for (let i = 0; i < runs; i++) {
    for (const how of launches) {
      const run = await startOnce(how, how === "node" ? idleMs : 0);
      startTimes[how].push(run.ms);
      if (run.idleRssMb !== undefined) idle.push(run.idleRssMb);
      errors[how].push(await configErrorOnce(how));
    }
  }
  const configError = {} as StartupResult["configError"];
  for (const how of launches) {
    const last = errors[how].at(-1)!;
    const lines = last.stderr.split("\n").filter((l) => l.trim() !== "");
    configError[how] = { ...bestAndMedian(errors[how].map((e) => e.ms)), lines: lines.length, code: last.code, message: lines.join(" | ") };
  }
  return {
    start: { "npm start": bestAndMedian(startTimes["npm start"]), node: bestAndMedian(startTimes.node) },
    configError,
    idleRssMb: bestAndMedian(idle),
    runs,
  };
}

export function formatStartup(r: StartupResult): string[] {
  const ok = (v: number, limit: number) => (v <= limit ? "ok" : "MISSED");
  const node = startCommand().label;
  const name = (how: Launch) => (how === "npm start" ? how : node).padEnd(Math.max(9, node.length));
  const lines = [`Start-up and memory (${r.runs} runs each, best / median; Bot API round trip ${RTT_MS} ms)`];
  for (const how of ["npm start", "node"] as const) {
    const s = r.start[how];
    lines.push(
      `  ${name(how)} → first getUpdates: best ${s.best} ms, median ${s.median} ms` +
        (how === "npm start" ? `  [target ≤ ${TARGETS.startMs} ms: ${ok(s.median, TARGETS.startMs)}]` : ""),
    );
  }
  for (const how of ["npm start", "node"] as const) {
    const e = r.configError[how];
    const oneLine = e.code === 1 && e.lines === 1;
    lines.push(
      `  ${name(how)} → bad configuration reported: best ${e.best} ms, median ${e.median} ms, exit ${e.code}, ` +
        `${e.lines} line${e.lines === 1 ? "" : "s"} ("${e.message.slice(0, 90)}")` +
        (how === "npm start" ? `  [target ≤ ${TARGETS.configErrorMs} ms, one line, exit 1: ${e.median <= TARGETS.configErrorMs && oneLine ? "ok" : "MISSED"}]` : ""),
    );
  }
  lines.push(
    `  idle bot RSS (${node}, a few seconds after the first getUpdates): best ${r.idleRssMb.best.toFixed(0)} MB, ` +
      `median ${r.idleRssMb.median.toFixed(0)} MB  [target ≤ ${TARGETS.idleRssMb} MB: ${ok(r.idleRssMb.median, TARGETS.idleRssMb)}]`,
  );
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  console.log(formatStartup(await runStartupBench({ runs })).join("\n"));
}
