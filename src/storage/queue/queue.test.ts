import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Update } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openMemoryQueue } from "./memory.js";
import { openSqliteQueue } from "./sqlite.js";
import { openPostgresQueue } from "./postgres.js";
import { PARTITIONS, RedisQueue } from "./redis.js";
import { orderKeyOf, partitionOf, type UpdateQueue } from "./update-queue.js";

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "queue-test-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function message(updateId: number, chatId: number, text = `m${updateId}`): Update {
  return {
    update_id: updateId,
    message: { message_id: updateId, date: 0, chat: { id: chatId, type: "private", first_name: "U" }, from: { id: chatId, is_bot: false, first_name: "U" }, text },
  };
}

/** Collects what a queue hands out; `finish` says whether each is done (default: yes). */
function collector(finish: (u: Update) => boolean | Promise<boolean> = () => true) {
  const seen: number[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    seen,
    handle: async (u: Update) => {
      seen.push(u.update_id);
      for (const w of waiters) if (seen.length >= w.count) w.resolve();
      return finish(u);
    },
    until: (count: number, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (seen.length >= count) return resolve();
        const timer = setTimeout(() => reject(new Error(`only ${seen.length} of ${count} handed out: ${seen.join(",")}`)), ms);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      }),
  };
}

/** Removes what a test left in the shared Redis. */
async function deleteRedisKeys(prefix: string): Promise<void> {
  const { createClient } = await import("@keyv/redis");
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) if (keys.length) await client.del(keys);
  client.destroy();
}

const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

type Backend = { name: string; enabled: boolean; durable: boolean; open: (id: string) => Promise<UpdateQueue>; cleanup?: (id: string) => Promise<void> };
const backends: Backend[] = [
  { name: "memory", enabled: true, durable: false, open: () => Promise.resolve(openMemoryQueue()) },
  { name: "sqlite file", enabled: true, durable: true, open: (id) => openSqliteQueue(path.join(tmp, `${id}.sqlite`)) },
  {
    name: "redis (REDIS_URL)",
    enabled: Boolean(REDIS_URL),
    durable: true,
    open: (id) => RedisQueue.open(REDIS_URL!, { prefix: `test-queue-${id}`, leaseMs: 1500, tickMs: 200, blockMs: 200 }),
    cleanup: (id) => deleteRedisKeys(`test-queue-${id}`),
  },
  {
    name: "postgres (DATABASE_URL)",
    enabled: Boolean(DATABASE_URL),
    durable: true,
    open: (id) => openPostgresQueue(DATABASE_URL!, { table: `q_${id}` }),
    cleanup: async (id) => {
      const { Client } = (await import("pg")).default;
      const c = new Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP TABLE IF EXISTS q_${id}`);
      await c.end();
    },
  },
];

// A server's variable in the title: CI checks that every test naming it ran (test/ci/store-tests-ran.ts).
for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`update queue on ${backend.name}`, () => {
    const id = () => `t${process.pid}_${randomUUID().slice(0, 8)}`;

    it("hands out every update once, drops redeliveries, and counts what waits", async () => {
      const name = id();
      const queue = await backend.open(name);
      try {
        await queue.add([message(1, 10), message(2, 11)]);
        expect((await queue.stats()).depth).toBe(2);
        const c = collector();
        queue.start(c.handle);
        await c.until(2);
        await queue.add([message(2, 11), message(3, 10)]);
        await queue.add([message(3, 10)]);
        await c.until(3);
        await settle();
        expect(c.seen.sort()).toEqual([1, 2, 3]);
        expect((await queue.stats()).depth).toBe(0);
        await queue.ping();
      } finally {
        await queue.stop();
        await queue.close();
        await backend.cleanup?.(name);
      }
    });

    it.skipIf(!backend.durable)("after a restart, hands out again only what was not done, in order", async () => {
      const name = id();
      const first = await backend.open(name);
      const c1 = collector((u) => u.update_id !== 2 && u.update_id !== 4);
      first.start(c1.handle);
      await first.add([message(1, 10), message(2, 10), message(3, 11), message(4, 10)]);
      await c1.until(4);
      await settle();
      const stats = await first.stats();
      expect(stats.depth).toBe(2);
      await first.stop();
      await first.close();
      const second = await backend.open(name);
      try {
        const c2 = collector();
        second.start(c2.handle);
        await c2.until(2);
        await settle();
        expect(c2.seen).toEqual([2, 4]);
        // Redelivered by Telegram after the restart: already known.
        await second.add([message(1, 10), message(4, 10)]);
        await settle();
        expect(c2.seen).toEqual([2, 4]);
      } finally {
        await second.stop();
        await second.close();
        await backend.cleanup?.(name);
      }
    });
  });
}

describe.skipIf(!REDIS_URL)("update queue on redis (REDIS_URL) with several instances", () => {
  it("splits the chats between instances, keeps each chat's order, and takes over a dead instance's chats", async () => {
    const prefix = `test-queue-multi-${randomUUID()}`;
    // On two "hosts": b's death is seen only through its leases expiring (on one host, a dead pid is seen at once).
    const open = (host: string) => RedisQueue.open(REDIS_URL!, { prefix, leaseMs: 1500, tickMs: 200, blockMs: 200, host });
    const [a, b] = await Promise.all([open("host-a"), open("host-b")]);
    const byInstance = new Map<RedisQueue, Set<string>>([
      [a, new Set()],
      [b, new Set()],
    ]);
    const order = new Map<string, number[]>();
    const handled: number[] = [];
    // Instance b never finishes chat 7's updates: it dies with them in hand.
    let bAlive = true;
    const handler = (queue: RedisQueue) => async (u: Update) => {
      const key = orderKeyOf(u);
      if (queue === b && !bAlive) return new Promise<boolean>(() => undefined);
      byInstance.get(queue)!.add(key);
      order.set(key, [...(order.get(key) ?? []), u.update_id]);
      handled.push(u.update_id);
      await settle(5);
      return true;
    };
    a.start(handler(a));
    b.start(handler(b));
    try {
      await settle(800); // both have announced themselves and split the partitions
      const chats = Array.from({ length: 12 }, (_, i) => 100 + i);
      let next = 1;
      const batch: Update[] = [];
      for (let round = 0; round < 5; round++) for (const chat of chats) batch.push(message(next++, chat));
      await a.add(batch);
      for (let i = 0; i < 100 && handled.length < batch.length; i++) await settle(100);
      expect(handled.sort((x, y) => x - y)).toEqual(batch.map((u) => u.update_id));
      // Every chat in order, and on one instance only.
      for (const [key, ids] of order) expect(ids, key).toEqual([...ids].sort((x, y) => x - y));
      const onA = byInstance.get(a)!;
      const onB = byInstance.get(b)!;
      expect([...onA].filter((k) => onB.has(k))).toEqual([]);
      expect(onA.size).toBeGreaterThan(0);
      expect(onB.size).toBeGreaterThan(0);

      // b stops finishing anything and its connections drop, as if killed: its chats' next updates wait, then a
      // takes them over once b's leases expire.
      bAlive = false;
      const bChat = Number([...onB][0]!.split(":")[1]);
      const late = [message(next++, bChat), message(next++, bChat)];
      await a.add(late);
      await settle(300);
      b.kill();
      const started = Date.now();
      for (let i = 0; i < 100 && !late.every((u) => handled.includes(u.update_id)); i++) await settle(100);
      expect(late.every((u) => handled.includes(u.update_id))).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(order.get(`chat:${bChat}`)!.slice(-2)).toEqual(late.map((u) => u.update_id));
      expect(partitionOf(`chat:${bChat}`, PARTITIONS)).toBeGreaterThanOrEqual(0);
    } finally {
      await a.stop();
      await a.close();
      await b.close().catch(() => undefined);
      await deleteRedisKeys(prefix);
    }
  }, 30_000);
});

describe.skipIf(!REDIS_URL)("update queue on redis (REDIS_URL) after a crash on the same host", () => {
  it("takes over at once what a dead process of this host held, without waiting for its leases to expire", async () => {
    const prefix = `test-queue-restart-${randomUUID()}`;
    // Leases of a minute: only the dead-process check can explain a takeover within seconds.
    const dead = await RedisQueue.open(REDIS_URL!, { prefix, leaseMs: 60_000, tickMs: 200, blockMs: 200, host: "same-host" });
    let held: number[] = [];
    const before = await RedisQueue.open(REDIS_URL!, { prefix, leaseMs: 60_000, tickMs: 200, blockMs: 200, host: "same-host", onRebalance: (p) => (held = p) });
    dead.start(() => new Promise<boolean>(() => undefined));
    await settle(500);
    await dead.add([message(1, 10)]);
    await settle(500);
    dead.kill();
    const c = collector();
    before.start(c.handle);
    try {
      await c.until(1, 15_000);
      expect(c.seen).toEqual([1]);
      for (let i = 0; i < 50 && held.length < PARTITIONS; i++) await settle(100);
      expect(held).toHaveLength(PARTITIONS);
    } finally {
      await before.stop();
      await before.close();
      await deleteRedisKeys(prefix);
    }
  }, 20_000);
});

