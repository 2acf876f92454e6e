/**
 * `npm run bench -- stop`: how fast a stop takes effect. A private chat's answer streams as drafts (sent with
 * can_stop); the user presses the draft's stop button (stopped_message_generation). Measured:
 * - update received → model request aborted: from the moment the Bot API test server hands the bot the getUpdates
 *   answer carrying the stop, to the moment the OpenAI test server sees the bot close the answer's HTTP stream
 *   (target ≤ 50 ms: the stop is handled before the chat's queue, and aborts the request through its signal);
 * - model request aborted → final message sent: until the final sendMessage (the text so far and the "stopped"
 *   note) reaches the Bot API (target ≤ one Bot API round trip after the abort).
 *
 * The bot runs as its own process (dist/main.js, built by bench/run.ts) with a simulated round trip on every Bot API
 * answer (BENCH_RTT_MS, default 20 ms). Each round is a new user and chat; the warm-up round is not counted. Bot API
 * arrival times have a resolution of 1 ms (Date.now()), so the second figure may read a fraction of a ms below 0.
 * Figures are wall-clock: on a machine busy with other work the p95 grows with the load, not with the bot.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startBotApiServer, type Call } from "../test/servers/bot-api.js";
import { botEnv } from "./bot-env.js";
import { startOpenAIServer, type ChatStreamRecord } from "../test/servers/openai.js";

const ROOT = resolve(import.meta.dirname, "..");
const RTT_MS = Number(process.env.BENCH_RTT_MS ?? 20);
const ROUNDS = Number(process.env.BENCH_STOP_ROUNDS ?? 15);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * A call's arrival (Date.now()) on the performance.now() clock the OpenAI server's records use. The wall clock drifts
 * from the monotonic one over a process's life (NTP), so the offset between them is taken now, not at start-up.
 */
const perfOf = (epochMs: number) => epochMs - (Date.now() - performance.now());

function stats(values: number[]): { best: number; median: number; p95: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { best: s[0] ?? NaN, median: at(0.5), p95: at(0.95) };
}

export async function stopBench(): Promise<string[]> {
  const telegram = await startBotApiServer({ latencyMs: RTT_MS });
  const openai = await startOpenAIServer();
  // A long answer, written steadily: stopped well before its end.
  openai.setDefault(() => ({ text: `${"Stop me if you can, the model keeps writing. ".repeat(200)}`, chunkSize: 4, delayMs: 5, firstDelayMs: 30 }));
  // When the bot gets the getUpdates answer that carries a stop (the server emits "call" as it writes the answer).
  const stopDelivered = new Map<number, number>();
  telegram.on("call", (call: Call) => {
    if (call.method !== "getUpdates" || !Array.isArray(call.result)) return;
    for (const update of call.result as Array<{ stopped_message_generation?: { chat: { id: number } } }>) {
      const chatId = update.stopped_message_generation?.chat.id;
      if (chatId !== undefined) stopDelivered.set(chatId, performance.now());
    }
  });
  const dir = await mkdtemp(join(tmpdir(), "bench-stop-"));
  const child = spawn(process.execPath, [join(ROOT, "dist/main.js")], {
    cwd: dir,
    env: botEnv({ telegram, openai }, dir),
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  try {
    await telegram.waitFor((c) => c.method === "deleteWebhook", 30_000);
    await sleep(300);
    const toAbort: number[] = [];
    const toFinal: number[] = [];
    let missed = 0;
    for (let round = 0; round <= ROUNDS; round++) {
      const user = { id: 60_000 + round, first_name: "Bench", language_code: "en" };
      telegram.addUser(user);
      telegram.addChat({ id: user.id, type: "private", first_name: "Bench" });
      const from = telegram.calls.length;
      const started = new Promise<ChatStreamRecord>((r) => openai.events.once("chat-start", r));
      telegram.userSends({ chat: user.id, from: user, text: `round ${round}: write a lot` });
      const stream = await started;
      // Stop once the answer has been showing for a moment.
      await telegram.waitFor((c) => c.method === "sendMessageDraft" && c.params.chat_id === user.id && c.status === 200 && String(c.params.text).length > 200, {
        timeoutMs: 30_000,
        after: from,
      });
      telegram.userStopsDraft({ chat: user.id });
      const final = await telegram.waitFor((c) => c.method === "sendMessage" && c.params.chat_id === user.id && c.status === 200, {
        timeoutMs: 30_000,
        after: from,
      });
      const record = await stream.ended;
      const delivered = stopDelivered.get(user.id);
      if (!record.aborted || record.abortedAt === undefined || delivered === undefined) {
        missed++;
        continue;
      }
      if (round === 0) continue;
      toAbort.push(record.abortedAt - delivered);
      toFinal.push(perfOf(final.at) - record.abortedAt);
    }
    const a = stats(toAbort);
    const f = stats(toFinal);
    const ok = (v: number, limit: number) => (v <= limit ? "ok" : "MISSED");
    return [
      `Stop (Bot API round trip ${RTT_MS} ms; ${toAbort.length} answers stopped from their draft, each a new chat)`,
      `  stop update received → model request aborted: best ${a.best.toFixed(1)} ms, median ${a.median.toFixed(1)} ms, ` +
        `p95 ${a.p95.toFixed(1)} ms  [target ≤ 50 ms: ${ok(a.p95, 50)} (p95)]`,
      `  model request aborted → final message sent:  best ${f.best.toFixed(1)} ms, median ${f.median.toFixed(1)} ms, ` +
        `p95 ${f.p95.toFixed(1)} ms  [target ≤ one round trip (${RTT_MS} ms): ${ok(f.p95, RTT_MS)} (p95)]`,
      ...(missed > 0 ? [`  stops that did not abort the model request: ${missed}`] : []),
    ];
  } finally {
    child.kill("SIGTERM");
    await exited;
    await telegram.close();
    await openai.close();
    await rm(dir, { recursive: true, force: true });
  }
}
