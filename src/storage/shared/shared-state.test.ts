/**
 * Two instances sharing one store (two separate store objects: two SQLite connections to one file, two Redis
 * clients, two PostgreSQL pools) doing the same thing at the same moment lose nothing: usage counters, rate limits,
 * budget holds, "told once" marks and history appends. Redis and PostgreSQL run when REDIS_URL / DATABASE_URL are set.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../store.js";
import { UsageStore } from "../usage.js";
import { HistoryStore, type HistoryTurn } from "../history.js";
import { RateLimiter } from "../../services/rate-limiter.js";
import { BudgetHolds } from "../../services/budget-holds.js";
import { ToldOnce } from "../../services/told-once.js";

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "shared-state-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const backends: Array<{ name: string; url: () => string | undefined }> = [
  { name: "sqlite", url: () => `sqlite://${path.join(tmp, `${randomUUID()}.sqlite`)}` },
  { name: "redis", url: () => REDIS_URL },
  { name: "postgres", url: () => DATABASE_URL },
];

for (const backend of backends) {
  const configured = backend.name === "sqlite" || backend.url() !== undefined;
  describe.skipIf(!configured)(`two instances on one ${backend.name} store`, () => {
    let a: Store;
    let b: Store;
    let namespace: string;

    beforeAll(async () => {
      // One namespace per run, so runs never see each other's keys and rows.
      namespace = `shared-test-${process.pid}-${randomUUID()}`;
      const url = backend.url()!;
      a = await openStore(url, { namespace });
      b = await openStore(url, { namespace });
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });
    afterEach(() => {
      expect(a.kind).toBe(backend.name);
    });

    /** 200 tasks, alternating between the two instances, all started at once. */
    const both = <T>(make: (store: Store, i: number) => Promise<T>): Promise<T[]> =>
      Promise.all(Array.from({ length: 200 }, (_, i) => make(i % 2 === 0 ? a : b, i)));

    it("adds 200 concurrent usage records without losing one", async () => {
      const now = () => new Date("2026-11-25T10:00:00Z");
      const usage = [new UsageStore(a.keyv, { now, shared: a.shared }), new UsageStore(b.keyv, { now, shared: b.shared })];
      await both((_, i) =>
        usage[i % 2]!.record({ sender: { userId: 7 }, chatId: -5, model: "m", promptTokens: i + 1, completionTokens: 2, costUsd: 0.001 }),
      );
      for (const store of usage) {
        const { today, month, total } = await store.get({ userId: 7 });
        for (const period of [today, month, total]) {
          expect(period.calls).toBe(200);
          expect(period.promptTokens).toBe((200 * 201) / 2);
          expect(period.completionTokens).toBe(400);
          expect(period.costUsd).toBeCloseTo(0.2, 9);
        }
        expect((await store.get({ chatId: -5 })).total.calls).toBe(200);
      }
    });

    it("admits exactly the rate limit out of 200 concurrent takes", async () => {
      const opts = { windowMs: 60_000, maxCalls: 37 };
      const limiters = [new RateLimiter(a.keyv, { ...opts, shared: a.shared }), new RateLimiter(b.keyv, { ...opts, shared: b.shared })];
      const decisions = await both((_, i) => limiters[i % 2]!.take({ userId: 11 }));
      expect(decisions.filter((d) => d.ok)).toHaveLength(37);
      expect(decisions.filter((d) => !d.ok).every((d) => !d.ok && d.retryAfterMs > 0)).toBe(true);
    });

    it("holds exactly what the budget allows out of 200 concurrent reservations", async () => {
      const now = () => new Date();
      const holds = [new BudgetHolds(a.keyv, { now, shared: a.shared }), new BudgetHolds(b.keyv, { now, shared: b.shared })];
      const scope = { userId: 12 };
      // A budget of 50 tokens, 1 token per call: the decision reads what is held, as the budgets do.
      const outcomes = await both((_, i) => {
        const mine = holds[i % 2]!;
        return mine.reserve([scope], { tokens: 1, costUsd: 0 }, async () => ((await mine.held(scope)).tokens + 1 > 50 ? "over" : undefined));
      });
      expect(outcomes.filter((o) => "hold" in o)).toHaveLength(50);
      expect((await holds[0]!.held(scope)).tokens).toBe(50);
      // Releasing from either instance removes exactly that hold.
      await Promise.all(outcomes.flatMap((o, i) => ("hold" in o ? [holds[(i + 1) % 2]!.release(o.hold)] : [])));
      expect((await holds[1]!.held(scope)).tokens).toBe(0);
    });

    it("tells once between both instances out of 200 concurrent asks", async () => {
      const told = [new ToldOnce(a.keyv, { shared: a.shared }), new ToldOnce(b.keyv, { shared: b.shared })];
      const answers = await both((_, i) => told[i % 2]!.first("limits:told:test", 60_000));
      expect(answers.filter(Boolean)).toHaveLength(1);
    });

    it("keeps every one of 200 history turns appended concurrently by two writers", async () => {
      const histories = [new HistoryStore(a, { budgetTokens: 1_000_000, maxTurns: 1_000 }), new HistoryStore(b, { budgetTokens: 1_000_000, maxTurns: 1_000 })];
      const key = "history:-77";
      const turn = (i: number): HistoryTurn => ({ role: "user", content: `turn ${i}`, tokens: 3, at: i, messageId: i + 1 });
      await both((_, i) => histories[i % 2]!.append(key, turn(i)));
      const turns = await histories[0]!.load(key);
      expect(turns).toHaveLength(200);
      expect(new Set(turns.map((t) => t.content)).size).toBe(200);
    });
  });
}
