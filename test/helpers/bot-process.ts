/**
 * The bot as a real process (`src/main.ts` under tsx), configured only by environment: for tests that kill it
 * (SIGKILL mid-answer), restart it, or run several instances side by side.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(import.meta.dirname, "../..");
// tsx's loader in the node process itself: the tsx command would run the bot in a child of its own, which a
// SIGKILL of the command leaves running.
const TSX_LOADER = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
const MAIN = join(ROOT, "src/main.ts");

export interface BotProcess {
  child: ChildProcess;
  /** Everything written to stdout so far (JSON log lines). */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exit: Promise<number | null>;
  /** Resolves once a log line contains `text`; rejects if the process exits first or after `timeoutMs`. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
  /** kill -9: no shutdown, no cleanup, as a crash or the OOM killer. */
  kill9(): Promise<void>;
}

export function startBotProcess(env: Record<string, string>, cwd: string): BotProcess {
  const child = spawn(process.execPath, ["--import", TSX_LOADER, MAIN], { cwd, env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  let exited = false;
  const exit = new Promise<number | null>((r) =>
    child.on("exit", (code) => {
      exited = true;
      r(code);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    async waitForLog(text, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (exited) throw new Error(`bot exited before logging "${text}": ${err || out.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`bot did not log "${text}" within ${timeoutMs} ms: ${out.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill9() {
      if (!exited) child.kill("SIGKILL");
      await exit;
    },
  };
}
