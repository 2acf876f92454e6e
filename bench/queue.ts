/**
 * The update queue's cost on the way to the first visible text: from the moment an update is in hand (getUpdates
 * returned it, or the webhook read it) to the moment the bot starts handling it, which before the queue was
 * immediate. Measured one update at a time (latency, not throughput), on a real SQLite file (WAL) and on the
 * machine's Redis (REDIS_URL, default redis://127.0.0.1:6379), after a warm-up.
 *
 *   npm run bench -- queue
 *
 * Targets (issue 14): ≤ 1 ms added with SQLite, ≤ 2 ms with Redis (median; p95 shown).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Update } from "grammy/types";
import { openSqliteQueue } from "../src/storage/queue/sqlite.js";
import { RedisQueue } from "../src/storage/queue/redis.js";
import type { UpdateQueue } from "../src/storage/queue/update-queue.js";

const RUNS = 400;
const WARMUP = 50;

function update(id: number): Update {
  const chat = 1000 + (id % 50);
  return {
    update_id: id,
    message: {
      message_id: id,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chat, type: "private", first_name: "Bench" },
      from: { id: chat, is_bot: false, first_name: "Bench", language_code: "en" },
      text: `question ${id}: how long does the queue take before the answer starts?`,
    },
  };
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** add() → the handler called, one update at a time; the handler finishes at once (done marks run in between). */
async function measure(queue: UpdateQueue): Promise<number[]> {
  let arrived: (() => void) | undefined;
  queue.start(() => {
    arrived?.();
    return Promise.resolve(true);
  });
  const times: number[] = [];
  const base = Math.floor(Math.random() * 1e9);
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const handled = new Promise<void>((r) => (arrived = r));
    const start = performance.now();
    await queue.add([update(base + i)]);
    await handled;
    if (i >= WARMUP) times.push(performance.now() - start);
    // Let the done mark go out, as it would while the answer streams.
    await new Promise((r) => setImmediate(r));
  }
  return times;
}

function line(name: string, times: number[], targetMs: number): string {
  const median = percentile(times, 0.5);
  const verdict = median <= targetMs ? "ok" : "MISSED";
  return `  ${name.padEnd(8)} median ${median.toFixed(3)} ms, p95 ${percentile(times, 0.95).toFixed(3)} ms over ${times.length} updates  [target ≤ ${targetMs} ms: ${verdict}]`;
}

export async function queueBench(): Promise<string[]> {
  const lines = ["Update queue: cost per update before handling starts (on the way to the first visible text)"];
  const dir = await mkdtemp(join(tmpdir(), "bench-queue-"));
  try {
    const sqlite = await openSqliteQueue(join(dir, "bot.sqlite"));
    try {
      lines.push(line("SQLite", await measure(sqlite), 1));
    } finally {
      await sqlite.stop();
      await sqlite.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const prefix = `bench-queue-${randomUUID()}`;
  let ready: () => void = () => undefined;
  const held = new Promise<void>((r) => (ready = r));
  const redis = await RedisQueue.open(url, { prefix, onRebalance: (p) => p.length === 16 && ready() }).catch((err: unknown) => {
    lines.push(`  Redis    not measured: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  });
  if (redis) {
    try {
      const measured = measure(redis);
      await held;
      lines.push(line("Redis", await measured, 2));
    } finally {
      await redis.stop();
      await redis.close();
      const { createClient } = await import("@keyv/redis");
      const client = createClient({ url });
      await client.connect();
      for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) if (keys.length) await client.del(keys);
      client.destroy();
    }
  }
  return lines;
}
