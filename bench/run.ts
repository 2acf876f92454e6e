/**
 * `npm run bench`: the bot's speed and flood-control figures against the issue targets, on loopback test servers.
 *
 * The bot runs as its own process (dist/main.js, built first, exactly as `npm start` runs it) so its CPU time and memory can be
 * read from /proc without counting the test servers, which run here. A simulated network round trip is added to
 * every Bot API answer (BENCH_RTT_MS, default 20 ms).
 *
 * Sections: start-up (`npm start` → first getUpdates, time to a configuration error, idle memory; bench/startup.ts),
 * latency (first token → first visible text; last token → final text), flood control (50 private and 10 group chats
 * streaming at once, with the bot's idle and peak memory), bot CPU per 300-token answer, history cost with 10 vs
 * 1,000 messages, token counting speed, (when present) the picture timings, how fast a stop takes effect
 * (bench/stop.ts), and the update queue's cost per update (bench/queue.ts).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startBotApiServer, type BotApiServer, type Call } from "../test/servers/bot-api.js";
import { botEnv } from "./bot-env.js";
import { startOpenAIServer, type ChatRequestBody, type OpenAIServer } from "../test/servers/openai.js";
import { openStore } from "../src/storage/store.js";
import { HistoryStore, historyKey, type HistoryTurn } from "../src/storage/history.js";
import { loadEncoding, messageTokens } from "../src/ai/tokens.js";
import { startCommand, TARGETS } from "./startup.js";
import { answerText, chatOf, plainTail, sendFloodQuestions, sleep, stats } from "./flood-common.js";

const ROOT = resolve(import.meta.dirname, "..");
const RTT_MS = Number(process.env.BENCH_RTT_MS ?? 20);
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s.

interface BotProcess {
  child: ChildProcess;
  stop(): Promise<void>;
  cpuMs(): number;
  /** User and system CPU ms separately. */
  cpuSplit(): { user: number; system: number };
  rssMb(): number;
  /** VmHWM: the most resident memory the process has had so far. */
  peakRssMb(): number;
}

async function startBot(telegram: BotApiServer, openai: OpenAIServer, dir: string): Promise<BotProcess> {
  // The built bot, as `npm start` runs it: the start script's V8 flags too (the build runs once before the sections).
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, ...startCommand().args], {
    cwd: dir,
    env: botEnv({ telegram, openai }, dir),
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  // Ready when it polls for updates.
  const deadline = Date.now() + 30_000;
  while (!telegram.calls.some((c) => c.method === "deleteWebhook")) {
    if (Date.now() > deadline) throw new Error(`bot did not start: ${out}`);
    await sleep(50);
  }
  await sleep(300);
  const stat = () => readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return {
    child,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
    cpuMs() {
      const f = stat();
      return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
    },
    cpuSplit() {
      const f = stat();
      return { user: (Number(f[11]) * 1000) / CLK_TCK, system: (Number(f[12]) * 1000) / CLK_TCK };
    },
    rssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
    },
    peakRssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024;
    },
  };
}

interface Rig {
  telegram: BotApiServer;
  openai: OpenAIServer;
  bot: BotProcess;
}

/** Test servers (with the simulated round trip), the bot process against them, and everything gone afterwards. */
async function withBot<T>(run: (rig: Rig) => Promise<T>, prepare?: (openai: OpenAIServer) => void): Promise<T> {
  const telegram = await startBotApiServer({ latencyMs: RTT_MS });
  const openai = await startOpenAIServer();
  prepare?.(openai);
  const dir = await mkdtemp(join(tmpdir(), "bench-bot-"));
  const bot = await startBot(telegram, openai, dir);
  try {
    return await run({ telegram, openai, bot });
  } finally {
    await bot.stop();
    await telegram.close();
    await openai.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Timing {
  firstToken?: number;
  lastToken?: number;
}

async function latencyAndCpu(): Promise<string[]> {
  const timings = new Map<number, Timing>();
  const listen = (openai: OpenAIServer) => {
    for (const [event, field] of [["first-token", "firstToken"], ["last-token", "lastToken"]] as const) {
      openai.events.on(event, (e: { at: number; body: ChatRequestBody }) => {
        timings.set(chatOf(e.body), { ...timings.get(chatOf(e.body)), [field]: performance.timeOrigin + e.at });
      });
    }
  };
  return withBot(async ({ telegram, openai, bot }) => {
    const lines: string[] = [];
    const rounds = 20;
    const first: number[] = [];
    const last: number[] = [];
    const asked: number[] = [];
    const firstGroup: number[] = [];
    const lastGroup: number[] = [];
    // Warm-up: the first answer pays for lazy loading.
    await oneAnswer(telegram, openai, 1, "private", timings);
    const cpuBefore = bot.cpuMs();
    const splitBefore = bot.cpuSplit();
    for (let i = 0; i < rounds; i++) {
      const chat = 100 + i;
      const t = await oneAnswer(telegram, openai, chat, "private", timings);
      first.push(t.firstVisible - t.firstToken);
      last.push(t.finalVisible - t.lastToken);
      asked.push(t.firstVisible - t.sent);
    }
    const cpuPerAnswer = (bot.cpuMs() - cpuBefore) / rounds;
    const splitAfter = bot.cpuSplit();
    const userPerAnswer = (splitAfter.user - splitBefore.user) / rounds;
    const systemPerAnswer = (splitAfter.system - splitBefore.system) / rounds;
    for (let i = 0; i < 5; i++) {
      const t = await oneAnswer(telegram, openai, -100 - i, "group", timings);
      firstGroup.push(t.firstVisible - t.firstToken);
      lastGroup.push(t.finalVisible - t.lastToken);
    }
    const f = stats(first);
    const l = stats(last);
    const q = stats(asked);
    const fg = stats(firstGroup);
    const lg = stats(lastGroup);
    const ok = (v: number, limit: number) => (v <= limit ? "ok" : "MISSED");
    lines.push(
      `Latency (Bot API round trip ${RTT_MS} ms; times until the bot has Telegram's answer)`,
      `  first token → first visible text, private: median ${f.median.toFixed(1)} ms, p95 ${f.p95.toFixed(1)} ms` +
        `  [target ≤ ${RTT_MS + 20} ms: ${ok(f.p95, RTT_MS + 20)}]`,
      `  last token → final text, private:          median ${l.median.toFixed(1)} ms, p95 ${l.p95.toFixed(1)} ms` +
        `  [target ≈ one round trip (${RTT_MS} ms + 20 ms slack): ${ok(l.p95, RTT_MS + 20)}]`,
      `  short question sent → first visible text, private: median ${q.median.toFixed(1)} ms, p95 ${q.p95.toFixed(1)} ms` +
        ` (the model's first token comes 30 ms after the request; no wait added before short questions)`,
      `  first token → first visible text, group:   median ${fg.median.toFixed(1)} ms`,
      `  last token → final text, group:            median ${lg.median.toFixed(1)} ms (edits keep ~1 s apart in groups)`,
      `Bot CPU per 300-token answer (private: 300 SSE chunks in, drafts, final, history and usage written): ` +
        `${cpuPerAnswer.toFixed(1)} ms (user ${userPerAnswer.toFixed(1)}, system ${systemPerAnswer.toFixed(1)}); bot RSS ${bot.rssMb().toFixed(0)} MB`,
    );
    return lines;
  }, listen);
}

async function oneAnswer(
  telegram: BotApiServer,
  openai: OpenAIServer,
  chatId: number,
  kind: "private" | "group",
  timings: Map<number, Timing>,
): Promise<{ sent: number; firstToken: number; lastToken: number; firstVisible: number; finalVisible: number }> {
  const user = { id: Math.abs(chatId) + 10_000, first_name: "Bench", language_code: "en" };
  telegram.addUser(user);
  telegram.addChat(kind === "private" ? { id: user.id, type: "private", first_name: "Bench" } : { id: chatId, type: "supergroup", title: "Bench" });
  const chat = kind === "private" ? user.id : chatId;
  openai.enqueue({ text: answerText(chat), chunkSize: 4, delayMs: 4, firstDelayMs: 30 });
  const from = telegram.calls.length;
  const sent = Date.now();
  telegram.userSends({ chat, from: user, text: kind === "private" ? `chat ${chat}: explain streaming` : `/ask chat ${chat}: explain streaming` });
  // Final: the send or edit whose text ends like the answer does (rendered, so compare without Markdown marks).
  const tail = plainTail(answerText(chat));
  const deadline = Date.now() + 30_000;
  let finalCall: Call | undefined;
  while (!finalCall) {
    finalCall = telegram.calls
      .slice(from)
      .find(
        (c) =>
          Number(c.params.chat_id) === chat &&
          c.status === 200 &&
          (c.method === "sendMessage" || c.method === "editMessageText") &&
          plainTail(String(c.params.text)) === tail,
      );
    if (Date.now() > deadline) throw new Error(`no final answer in chat ${chat}`);
    if (!finalCall) await sleep(10);
  }
  const t = timings.get(chat)!;
  const firstCall = telegram.calls
    .slice(from)
    .find((c) => Number(c.params.chat_id) === chat && c.status === 200 && ["sendMessageDraft", "sendMessage"].includes(c.method))!;
  // A call's `at` is its arrival; the bot knows it landed one round trip (the simulated latency) later.
  return { sent, firstToken: t.firstToken!, lastToken: t.lastToken!, firstVisible: firstCall.at + RTT_MS, finalVisible: finalCall.at + RTT_MS };
}

async function floodControl(): Promise<string[]> {
  return withBot(async ({ telegram, openai, bot }) => {
    const lines: string[] = [];
    // Memory: idle before the flood (a few seconds after start-up), the highest sample during it, and VmHWM (the
    // peak over the process's life, start-up included).
    await sleep(2000);
    const idleRss = bot.rssMb();
    let peakRss = idleRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, bot.rssMb())), 25);
    const privates = Array.from({ length: 50 }, (_, i) => 20_000 + i);
    const groups = Array.from({ length: 10 }, (_, i) => -20_000 - i);
    const texts = new Map<number, string>();
    openai.setDefault((body) => {
      const chat = chatOf(body);
      const text = texts.get(chat) ?? "ok";
      // About 300 tokens over ~8 s: every chat is mid-stream at the same time.
      return { text, chunkSize: 6, delayMs: 40 };
    });
    const start = Date.now();
    sendFloodQuestions(telegram, privates, groups, texts);
    const all = [...privates, ...groups];
    const complete = (id: number) => {
      const want = plainTail(texts.get(id)!);
      return telegram.botMessages(id).some((m) => plainTail(m.text ?? "") === want);
    };
    const doneAt = new Map<number, number>();
    while (doneAt.size < all.length && Date.now() - start < 120_000) {
      for (const id of all) if (!doneAt.has(id) && complete(id)) doneAt.set(id, Date.now() - start);
      await sleep(50);
    }
    clearInterval(sampler);
    const lifetimePeak = bot.peakRssMb();
    const missing = all.filter((id) => !doneAt.has(id));
    const perSecond = new Map<number, number>();
    for (const c of telegram.calls) if (["sendMessage", "editMessageText", "sendMessageDraft"].includes(c.method)) {
      const s = Math.floor((c.at - start) / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    const busiest = Math.max(...perSecond.values());
    if (process.env.BENCH_VERBOSE) {
      for (const c of telegram.calls.filter((c) => c.status === 429)) {
        const chat = Number(c.params.chat_id);
        const recent = telegram.calls.filter((x) => x.at > c.at - 1100 && x.at <= c.at && x.status === 200 && x.method !== "getUpdates");
        const sameChat = recent.filter((x) => Number(x.params.chat_id) === chat);
        console.error(`429 ${c.method} chat ${chat}: ${c.error?.description}; last 1.1 s: ${recent.length} total, ${sameChat.length} in chat (${sameChat.map((x) => x.method).join(",")})`);
      }
    }
    const finish = stats([...doneAt.values()]);
    lines.push(
      `Flood control: 50 private + 10 group chats streaming 300-token answers at once`,
      `  429 answers from the Bot API: ${telegram.stats.tooManyRequests}  [target 0: ${telegram.stats.tooManyRequests === 0 ? "ok" : "MISSED"}]`,
      `  complete answers: ${doneAt.size}/${all.length}${missing.length ? ` (missing: ${missing.join(",")})` : ""}; ` +
        `time to complete: median ${(finish.median / 1000).toFixed(1)} s, max ${(finish.max / 1000).toFixed(1)} s (the model streams for ~8 s)`,
      `  busiest second: ${busiest} sends/edits/drafts (Telegram allows ~30)`,
      `  bot RSS: idle ${idleRss.toFixed(0)} MB before the flood  [target ≤ ${TARGETS.idleRssMb} MB: ${idleRss <= TARGETS.idleRssMb ? "ok" : "MISSED"}]; ` +
        `peak ${peakRss.toFixed(0)} MB during it  [target ≤ ${TARGETS.peakRssMb} MB: ${peakRss <= TARGETS.peakRssMb ? "ok" : "MISSED"}]; ` +
        `VmHWM ${lifetimePeak.toFixed(0)} MB (whole life)`,
    );
    return lines;
  });
}

/** The store work of one turn (load, fit to budget, append two turns) on SQLite, for a chat with n messages so far. */
async function historyCost(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), "bench-history-"));
  const store = await openStore(`sqlite://${join(dir, "h.sqlite")}`);
  await loadEncoding("o200k_base");
  const history = new HistoryStore(store, { budgetTokens: 8000 });
  const lines: string[] = ["History cost of one turn on SQLite (load + fit to budget + append question and answer)"];
  try {
    const turn = (role: "user" | "assistant", i: number): HistoryTurn => {
      const content = `${role === "user" ? "Question" : "Answer"} ${i}: ${"some words about the topic ".repeat(role === "user" ? 2 : 8)}`;
      return { role, content, tokens: messageTokens(content, "o200k_base"), at: Date.now() };
    };
    const results: Array<[number, number, number]> = [];
    for (const n of [10, 100, 1000, 5000, 10]) {
      const key = historyKey(n);
      await history.clear(key);
      for (let i = 0; i < n / 2; i++) await history.append(key, turn("user", i), turn("assistant", i));
      // Every timed turn starts from the same stored history: a chat with exactly n messages so far.
      const stored: unknown = await store.keyv.get(key);
      const times: number[] = [];
      for (let r = 0; r < 40; r++) {
        await store.keyv.set(key, stored);
        const t0 = performance.now();
        const turns = await history.load(key);
        HistoryStore.fitToBudget(turns, 8000);
        await history.append(key, turn("user", n + r), turn("assistant", n + r));
        times.push(performance.now() - t0);
      }
      results.push([n, stats(times).median, (await history.load(key)).length]);
    }
    // The first 10-message run warmed the JIT up; report the second.
    results.shift();
    // Order of runs: 100, 1,000, 5,000, 10 (the first 10 was the warm-up).
    const [r100, r1000, r5000, r10] = results as [typeof results[0], typeof results[0], typeof results[0], typeof results[0]];
    for (const [n, ms, kept] of [r10, r100, r1000, r5000]) {
      lines.push(`  ${String(n).padStart(5)} messages so far: ${ms.toFixed(2)} ms per turn (${kept} turns kept under the 8,000-token budget)`);
    }
    lines.push(
      `  1,000 vs 10 messages: ×${(r1000[1] / r10[1]).toFixed(2)}; 5,000 vs 1,000: ×${(r5000[1] / r1000[1]).toFixed(2)} — ` +
        `the work follows the turns kept (at most the token budget / 200 turns), not the messages ever sent [target flat]`,
    );
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
  return lines;
}

async function tokenizer(): Promise<string[]> {
  const mod = await import("./tokenizer.js");
  const results = mod.runTokenizerBench({ runs: 3 });
  const check = mod.checkTokenizerTargets(results);
  return ["Token counting (o200k_base, ~1 MB mixed English and Chinese)", ...mod.formatTokenizerTable(results).split("\n").map((l) => `  ${l}`), ...check.lines.map((l) => `  ${l}`)];
}

async function startup(): Promise<string[]> {
  const mod = await import("./startup.js");
  return mod.formatStartup(await mod.runStartupBench({ runs: 5 }));
}

async function pictures(): Promise<string[]> {
  if (!existsSync(join(ROOT, "bench/image.ts"))) return [];
  const path = "./image.js"; // written with the picture feature; optional here
  const mod = (await import(path)) as { runImageBench?: () => Promise<unknown>; formatImageBench?: (r: unknown) => string };
  if (!mod.runImageBench) return [];
  const result = await mod.runImageBench();
  return ["Pictures", ...(mod.formatImageBench ? mod.formatImageBench(result) : JSON.stringify(result, null, 2)).split("\n").map((l) => `  ${l}`)];
}

const only = process.argv.slice(2);
// The same build as `npm run build` (dist/ and its token tables).
execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { stdio: "inherit" });
const sections: Array<[string, () => Promise<string[]>]> = [
  ["startup", startup],
  ["latency", latencyAndCpu],
  ["flood", floodControl],
  // The same flood from two instances sharing Redis (part of `flood`; alone as `flood2`, three instances as `flood3`).
  ["flood", async () => (await import("./flood-instances.js")).floodInstances(2)],
  ["flood2", async () => (await import("./flood-instances.js")).floodInstances(2)],
  ["flood3", async () => (await import("./flood-instances.js")).floodInstances(3)],
  ["history", historyCost],
  ["tokenizer", tokenizer],
  ["pictures", pictures],
  ["markdown", async () => (await import("./markdown.js")).markdownBench()],
  ["knowledge", async () => (await import("./knowledge.js")).knowledgeBench()],
  ["inline", async () => (await import("./voice-inline.js")).voiceInlineBench()],
  ["stop", async () => (await import("./stop.js")).stopBench()],
  ["queue", async () => (await import("./queue.js")).queueBench()],
];
for (const [name, run] of sections) {
  if (only.length > 0 ? !only.includes(name) : name === "flood2" || name === "flood3") continue;
  const lines = await run();
  if (lines.length > 0) console.log(`${lines.join("\n")}\n`);
}
