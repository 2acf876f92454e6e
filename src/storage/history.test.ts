import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEncoding } from "../ai/tokens.js";
import { countTurnTokens } from "../ai/turn-tokens.js";
import {
  DEFAULT_MAX_TURNS,
  HistoryStore,
  historyKey,
  type HistoryTurn,
  type StoredHistory,
} from "./history.js";
import { openStore, type Store } from "./store.js";

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "history-test-"));
  await loadEncoding("o200k_base");
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const uniqueNamespace = () => `test-history-${process.pid}-${randomUUID()}`;

let clock = Date.UTC(2025, 0, 1);
function turn(role: HistoryTurn["role"], content: string, extra: Partial<HistoryTurn> = {}): HistoryTurn {
  clock += 1_000;
  return { role, content, tokens: countTurnTokens({ content, ...extra }, "o200k_base"), at: clock, ...extra };
}
/** A turn with a chosen token count, for trimming arithmetic. */
function sized(role: HistoryTurn["role"], tokens: number, content = `${role} ${tokens}`): HistoryTurn {
  clock += 1_000;
  return { role, content, tokens, at: clock };
}

/** Writes a raw string where keyv would keep `key`, bypassing keyv's serializer. */
async function writeRaw(store: Store, key: string, raw: string): Promise<void> {
  const adapter = store.keyv.store as { set(key: string, value: string): Promise<unknown> };
  // Redis prefixes inside the adapter; the others are prefixed by Keyv with "<namespace>:".
  const storedKey = store.kind === "redis" ? key : `${store.keyv.namespace}:${key}`;
  await adapter.set(storedKey, raw);
}

type Backend = { name: string; enabled: boolean; open: (namespace: string) => Promise<Store> };
const backends: Backend[] = [
  { name: "sqlite file", enabled: true, open: (namespace) => openStore(`sqlite://${path.join(tmp, "history.sqlite")}`, { namespace }) },
  { name: "memory", enabled: true, open: (namespace) => openStore("memory://", { namespace }) },
  { name: "redis (REDIS_URL)", enabled: Boolean(REDIS_URL), open: (namespace) => openStore(REDIS_URL ?? "", { namespace }) },
  { name: "postgres (DATABASE_URL)", enabled: Boolean(DATABASE_URL), open: (namespace) => openStore(DATABASE_URL ?? "", { namespace }) },
];

// A server's variable in the title: CI checks that every test naming it ran (test/ci/store-tests-ran.ts).
for (const backend of backends) {
  describe.skipIf(!backend.enabled)(`history on ${backend.name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await backend.open(uniqueNamespace());
    });
    afterAll(async () => {
      if (!store) return;
      await store.keyv.clear();
      await store.close();
    });

    it("appends, loads and clears, keeping images and names", async () => {
      const history = new HistoryStore(store, { budgetTokens: 10_000 });
      const key = historyKey(-1001234567890, 42);
      expect(await history.load(key)).toEqual([]);
      const question = turn("user", "这张图里是什么？", {
        name: "Алиса",
        images: [{ fileId: "AgACAgIAAxkBAAIB", width: 1280, height: 960, detail: "high", tokens: 765 }],
      });
      const answer = turn("assistant", "A cat on a **windowsill** 🐈\n\n```\ncode\n```");
      await history.append(key, question);
      await history.append(key, answer);
      expect(await history.load(key)).toEqual([question, answer]);
      // Another topic of the same chat is a different history.
      expect(await history.load(historyKey(-1001234567890))).toEqual([]);

      const stored = (await store.keyv.get(key)) as StoredHistory;
      expect(stored.version).toBe(1);
      expect(stored.totalTokens).toBe(question.tokens + answer.tokens);

      await history.clear(key);
      expect(await history.load(key)).toEqual([]);
      expect(await store.keyv.get(key)).toBeUndefined();
    });

    it("trims to the budget, newest kept, starting with a user turn", async () => {
      const history = new HistoryStore(store.keyv, { budgetTokens: 100 });
      const key = historyKey(777);
      const turns = [sized("user", 30), sized("assistant", 30), sized("user", 30), sized("assistant", 30)];
      await history.append(key, ...turns);
      // 120 > 100: the first user turn goes, which leaves an assistant turn first, which goes too.
      expect(await history.load(key)).toEqual(turns.slice(2));
      const stored = (await store.keyv.get(key)) as StoredHistory;
      expect(stored.totalTokens).toBe(60);
      await history.clear(key);
    });

    it("treats corrupt and foreign values as empty and overwrites them on the next append", async () => {
      const history = new HistoryStore(store, { budgetTokens: 1_000 });
      const key = historyKey(31337);
      const bad: unknown[] = [
        "just a string",
        42,
        null,
        [turn("user", "an array, not a history")],
        { version: 0, turns: [], totalTokens: 0 },
        { version: 2, turns: [], totalTokens: 0 },
        { version: 1, turns: "nope", totalTokens: 0 },
        { version: 1, turns: [{ role: "system", content: "x", tokens: 4, at: 1 }], totalTokens: 4 },
        { version: 1, turns: [{ role: "user", content: "x", tokens: -1, at: 1 }], totalTokens: -1 },
        { version: 1, turns: [{ role: "user", content: "x", tokens: 4, at: 1, images: [{ fileId: 1 }] }], totalTokens: 4 },
      ];
      for (const value of bad) {
        await store.keyv.set(key, value);
        expect(await history.load(key), JSON.stringify(value)).toEqual([]);
      }
      await writeRaw(store, key, "{not json at all");
      expect(await history.load(key)).toEqual([]);
      const fresh = turn("user", "hello again");
      await history.append(key, fresh);
      expect(await history.load(key)).toEqual([fresh]);
      await history.clear(key);
    });

    it("handles a long history: 1000 turns in, budget and cap respected", async () => {
      const history = new HistoryStore(store, { budgetTokens: 50_000, maxTurns: 1_000 });
      const key = historyKey(1, undefined, 99);
      const turns: HistoryTurn[] = [];
      for (let i = 0; i < 600; i++) turns.push(turn(i % 2 === 0 ? "user" : "assistant", `message ${i} 🙂 第${i}条`));
      await history.append(key, ...turns.slice(0, 500));
      await history.append(key, ...turns.slice(500));
      const loaded = await history.load(key);
      expect(loaded).toEqual(turns);
      await history.clear(key);
    });
  });
}

describe("history across a restart (sqlite file)", () => {
  it("is still there after the store is closed and reopened", async () => {
    const file = path.join(tmp, "restart", "bot.sqlite");
    const namespace = uniqueNamespace();
    const key = historyKey(123456789);
    const before = await openStore(`sqlite://${file}`, { namespace });
    const turns = [turn("user", "remember: my name is 小明"), turn("assistant", "Got it, 小明.")];
    await new HistoryStore(before, { budgetTokens: 4_000 }).append(key, ...turns);
    await before.close();

    const after = await openStore(`sqlite://${file}`, { namespace });
    const history = new HistoryStore(after, { budgetTokens: 4_000 });
    expect(await history.load(key)).toEqual(turns);
    await history.clear(key);
    await after.close();
  });

  it("rejects when the store fails instead of reading an empty history", async () => {
    const file = path.join(tmp, "failing", "bot.sqlite");
    const namespace = uniqueNamespace();
    const key = historyKey(42);
    const store = await openStore(`sqlite://${file}`, { namespace });
    const history = new HistoryStore(store, { budgetTokens: 4_000 });
    const kept = turn("user", "do not lose me");
    await history.append(key, kept);
    await store.close();
    // The database handle is gone: a read must fail loudly, and so must a write.
    await expect(history.load(key)).rejects.toThrow(/closed|SQLITE_MISUSE/i);
    await expect(history.append(key, turn("user", "next"))).rejects.toThrow();

    const reopened = await openStore(`sqlite://${file}`, { namespace });
    const again = new HistoryStore(reopened, { budgetTokens: 4_000 });
    expect(await again.load(key)).toEqual([kept]);
    await again.clear(key);
    await reopened.close();
  });
});

describe("trimming (memory store)", () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore("memory://", { namespace: uniqueNamespace() });
  });
  afterAll(async () => {
    await store.close();
  });

  it("uses the stored counts and never re-counts", async () => {
    const history = new HistoryStore(store, { budgetTokens: 10 });
    const key = historyKey(1);
    // The content would be thousands of tokens; the stored count says 4 and that is what is used.
    const big = { role: "user" as const, content: "word ".repeat(5_000), tokens: 4, at: 1 };
    await history.append(key, big);
    expect(await history.load(key)).toEqual([big]);
  });

  it("caps the number of turns (default 200)", async () => {
    const history = new HistoryStore(store, { budgetTokens: 1_000_000 });
    const key = historyKey(2);
    const turns = Array.from({ length: 250 }, (_, i) => sized(i % 2 === 0 ? "user" : "assistant", 5));
    for (let i = 0; i < turns.length; i += 10) await history.append(key, ...turns.slice(i, i + 10));
    const loaded = await history.load(key);
    expect(DEFAULT_MAX_TURNS).toBe(200);
    expect(loaded).toEqual(turns.slice(50));
    const capped = new HistoryStore(store, { budgetTokens: 1_000_000, maxTurns: 3 });
    const next = sized("assistant", 1);
    await capped.append(key, next);
    // The 3 newest are user 248, assistant 249, the new assistant turn.
    expect(await capped.load(key)).toEqual([turns[248], turns[249], next]);
    const last = sized("user", 1);
    await capped.append(key, last);
    // The 3 newest are now assistant 249, the assistant turn, the user turn: both assistant turns
    // would open the history, so only the user turn is left.
    expect(await capped.load(key)).toEqual([last]);
  });

  it("leaves no history when one exchange is larger than the whole budget", async () => {
    const history = new HistoryStore(store, { budgetTokens: 50 });
    const key = historyKey(3);
    await history.append(key, sized("user", 10), sized("assistant", 10));
    await history.append(key, sized("user", 40), sized("assistant", 40));
    expect(await history.load(key)).toEqual([]);
    expect(await store.keyv.get(key)).toBeUndefined();
  });

  it("drops an assistant turn that would open the history", async () => {
    const history = new HistoryStore(store, { budgetTokens: 100 });
    const key = historyKey(4);
    await history.append(key, sized("assistant", 5));
    expect(await history.load(key)).toEqual([]);
    const user = sized("user", 5);
    const reply = sized("assistant", 5);
    await history.append(key, user, reply);
    expect(await history.load(key)).toEqual([user, reply]);
  });

  it("keeps invariants under random appends", async () => {
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const budget = 500;
    const maxTurns = 12;
    const history = new HistoryStore(store, { budgetTokens: budget, maxTurns });
    const key = historyKey(5);
    const appended: HistoryTurn[] = [];
    for (let round = 0; round < 300; round++) {
      const batch = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
        sized(random() < 0.5 ? "user" : "assistant", 1 + Math.floor(random() * 200)),
      );
      appended.push(...batch);
      await history.append(key, ...batch);
      const loaded = await history.load(key);
      const total = loaded.reduce((sum, t) => sum + t.tokens, 0);
      expect(total).toBeLessThanOrEqual(budget);
      expect(loaded.length).toBeLessThanOrEqual(maxTurns);
      if (loaded.length > 0) {
        expect(loaded[0]?.role).toBe("user");
        // What is kept is always the newest turns, in order.
        expect(loaded).toEqual(appended.slice(appended.length - loaded.length));
        const stored = (await store.keyv.get(key)) as StoredHistory;
        expect(stored.totalTokens).toBe(total);
      }
      // Maximal: the turn just before the kept ones could not have stayed.
      const previous = appended[appended.length - loaded.length - 1];
      if (previous && previous.role === "user" && loaded.length < maxTurns) {
        expect(total + previous.tokens).toBeGreaterThan(budget);
      }
    }
  });

  it("rejects invalid turns and options", async () => {
    const history = new HistoryStore(store, { budgetTokens: 100 });
    await expect(history.append(historyKey(6), { role: "system", content: "x", tokens: 1, at: 1 } as unknown as HistoryTurn)).rejects.toThrow(
      TypeError,
    );
    await expect(history.append(historyKey(6), { role: "user", content: "x", tokens: Number.NaN, at: 1 })).rejects.toThrow(TypeError);
    expect(() => new HistoryStore(store, { budgetTokens: -1 })).toThrow(RangeError);
    expect(() => new HistoryStore(store, { budgetTokens: 10, maxTurns: 0 })).toThrow(RangeError);
  });
});

describe("an edited question's exchange (memory store)", () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore("memory://", { namespace: uniqueNamespace() });
  });
  afterAll(async () => {
    await store.close();
  });

  it("replaces the last exchange when its question is the edited message, and only then", async () => {
    const history = new HistoryStore(store, { budgetTokens: 1_000 });
    const key = historyKey(20);
    const older = [sized("user", 5, "first"), sized("assistant", 5, "first answer")];
    const asked = { ...sized("user", 7, "second"), messageId: 42 };
    const answered = { ...sized("assistant", 9, "second answer"), messageIds: [43, 44] };
    await history.append(key, ...older, asked, answered);
    expect(HistoryStore.lastExchange(await history.load(key))).toEqual({ question: asked, answer: answered });

    // Another message's edit: nothing changes.
    expect(await history.replaceLast(key, 41, sized("user", 1))).toBe(false);
    expect(await history.load(key)).toEqual([...older, asked, answered]);

    const edited = { ...sized("user", 6, "second, edited"), messageId: 42 };
    const reanswered = { ...sized("assistant", 3, "new answer"), messageIds: [43] };
    expect(await history.replaceLast(key, 42, edited, reanswered)).toBe(true);
    expect(await history.load(key)).toEqual([...older, edited, reanswered]);
    expect(((await store.keyv.get(key)) as StoredHistory).totalTokens).toBe(5 + 5 + 6 + 3);

    // No new answer (the model failed): the exchange goes, the question it answered no longer exists.
    expect(await history.replaceLast(key, 42)).toBe(true);
    expect(await history.load(key)).toEqual(older);
    expect(await history.replaceLast(historyKey(21), 42)).toBe(false);
  });

  it("reads histories written before turns carried message ids, and rejects malformed ids", async () => {
    const history = new HistoryStore(store, { budgetTokens: 1_000 });
    const key = historyKey(22);
    const old = [
      { role: "user", content: "from an older version", tokens: 5, at: 1 },
      { role: "assistant", content: "still readable", tokens: 4, at: 2 },
    ];
    await store.keyv.set(key, { version: 1, turns: old, totalTokens: 9 });
    expect(await history.load(key)).toEqual(old);
    expect(HistoryStore.lastExchange(await history.load(key))?.question.messageId).toBeUndefined();
    await expect(history.append(key, { ...sized("user", 1), messageId: 1.5 })).rejects.toThrow(TypeError);
    await expect(history.append(key, { ...sized("assistant", 1), messageIds: [3, -1] })).rejects.toThrow(TypeError);
    await store.keyv.set(key, { version: 1, turns: [{ ...old[0], messageIds: "7" }], totalTokens: 5 });
    expect(await history.load(key)).toEqual([]);
  });
});

describe("fitToBudget", () => {
  const turns = [sized("user", 10), sized("assistant", 20), sized("user", 30), sized("assistant", 40), sized("user", 5)];

  it("selects the newest turns that fit, oldest first", () => {
    expect(HistoryStore.fitToBudget(turns, 1_000)).toEqual(turns);
    expect(HistoryStore.fitToBudget(turns, 75)).toEqual(turns.slice(2));
    expect(HistoryStore.fitToBudget(turns, 5)).toEqual(turns.slice(4));
    expect(HistoryStore.fitToBudget(turns, 4)).toEqual([]);
    expect(HistoryStore.fitToBudget([], 100)).toEqual([]);
  });

  it("never starts with an assistant turn", () => {
    // 45 fits the last two turns (assistant 40 + user 5); the assistant one must not lead.
    expect(HistoryStore.fitToBudget(turns, 45)).toEqual(turns.slice(4));
    expect(HistoryStore.fitToBudget(turns, 94)).toEqual(turns.slice(2));
  });

  it("stops at the first turn that does not fit instead of skipping it", () => {
    const withBigMiddle = [sized("user", 1), sized("assistant", 1), sized("user", 500), sized("assistant", 1), sized("user", 1)];
    expect(HistoryStore.fitToBudget(withBigMiddle, 100)).toEqual(withBigMiddle.slice(4));
  });

  it("does not modify its input", () => {
    const copy = structuredClone(turns);
    HistoryStore.fitToBudget(turns, 50);
    expect(turns).toEqual(copy);
  });
});

describe("keys", () => {
  it("builds one key per chat, topic and member", () => {
    expect(historyKey(12345)).toBe("history:12345");
    expect(historyKey(-1001234567890, 7)).toBe("history:-1001234567890:t7");
    expect(historyKey(-100123, undefined, 42)).toBe("history:-100123:u42");
    expect(historyKey(-100123, 7, 42)).toBe("history:-100123:t7:u42");
    expect(() => historyKey(1.5)).toThrow(TypeError);
    expect(() => historyKey(1, Number.NaN)).toThrow(TypeError);
  });
});
