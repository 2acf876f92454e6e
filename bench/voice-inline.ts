/**
 * `npm run bench -- inline`: how soon an inline answer shows after the model's first token. A user types an inline
 * query, picks the "Ask" result, and the bot streams the answer into that message by edits (inline_message_id); the
 * target is the group chats' one: first visible text ≤ one Bot API round trip + 20 ms after the first token.
 *
 * The bot runs as its own process (dist/main.js, built by bench/run.ts) against the test servers, with a simulated
 * round trip on every Bot API answer (BENCH_RTT_MS, default 20 ms). Each round uses a new user (the rate limit is per
 * user) and a new inline message; the warm-up round is not counted.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startBotApiServer } from "../test/servers/bot-api.js";
import { botEnv } from "./bot-env.js";
import { startOpenAIServer, type ChatRequestBody } from "../test/servers/openai.js";

const ROOT = resolve(import.meta.dirname, "..");
const RTT_MS = Number(process.env.BENCH_RTT_MS ?? 20);
const ROUNDS = Number(process.env.BENCH_INLINE_ROUNDS ?? 15);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function questionOf(body: ChatRequestBody): string {
  const content = body.messages.at(-1)?.content;
  return typeof content === "string" ? content : JSON.stringify(content);
}

export async function voiceInlineBench(): Promise<string[]> {
  const telegram = await startBotApiServer({ latencyMs: RTT_MS });
  const openai = await startOpenAIServer();
  const firstTokens = new Map<string, number>();
  openai.events.on("first-token", (e: { at: number; body: ChatRequestBody }) => firstTokens.set(questionOf(e.body), performance.timeOrigin + e.at));
  openai.setDefault(() => ({ text: `Inline answers stream by edits. ${"More words arrive as the model writes. ".repeat(20)}`, chunkSize: 4, delayMs: 4, firstDelayMs: 30 }));
  const dir = await mkdtemp(join(tmpdir(), "bench-inline-"));
  const child = spawn(process.execPath, [join(ROOT, "dist/main.js")], {
    cwd: dir,
    env: botEnv({ telegram, openai }, dir),
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  try {
    await telegram.waitFor((c) => c.method === "deleteWebhook", 30_000);
    await sleep(300);
    const delays: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const user = { id: 50_000 + round, first_name: "Bench", language_code: "en" };
      telegram.addUser(user);
      telegram.addChat({ id: user.id, type: "private", first_name: "Bench" });
      const question = `inline round ${round}: explain streaming`;
      const queryId = telegram.userTypesInline({ from: user, query: question });
      await telegram.waitFor((c) => c.method === "answerInlineQuery" && c.params.inline_query_id === queryId, 10_000);
      const from = telegram.calls.length;
      const { inlineMessageId } = telegram.userChoosesInlineResult({ queryId, resultId: "ask", chat: user.id });
      const first = await telegram.waitFor(
        (c) => c.method === "editMessageText" && c.params.inline_message_id === inlineMessageId && c.status === 200,
        { timeoutMs: 30_000, after: from },
      );
      // Let the answer finish before the next round, so rounds do not share the machine.
      const deadline = Date.now() + 30_000;
      while (!telegram.inlineMessage(inlineMessageId!)?.text?.endsWith("as the model writes.") && Date.now() < deadline) await sleep(20);
      const firstToken = firstTokens.get(question);
      // A call's `at` is its arrival; the bot knows it landed one round trip (the simulated latency) later.
      if (round > 0 && firstToken !== undefined) delays.push(first.at + RTT_MS - firstToken);
    }
    const sorted = [...delays].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
    const limit = RTT_MS + 20;
    return [
      `Inline mode (Bot API round trip ${RTT_MS} ms; ${delays.length} answers, each a new user and inline message)`,
      `  first token → first visible text of the chosen result: best ${at(0).toFixed(1)} ms, median ${at(0.5).toFixed(1)} ms, ` +
        `p95 ${at(0.95).toFixed(1)} ms  [target ≤ ${limit} ms: ${at(0.5) <= limit ? "ok" : "MISSED"} (median)]`,
      `  429 answers from the Bot API: ${telegram.stats.tooManyRequests}`,
    ];
  } finally {
    child.kill("SIGTERM");
    await exited;
    await telegram.close();
    await openai.close();
    await rm(dir, { recursive: true, force: true });
  }
}
