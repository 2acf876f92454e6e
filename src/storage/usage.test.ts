import Keyv from "keyv";
import { describe, expect, it } from "vitest";
import { MemorySharedState } from "./shared/shared-state.js";
import { DAY_TTL_MS, emptyUsage, UsageStore, type Sender } from "./usage.js";

function clock(iso: string) {
  let now = new Date(iso);
  return { now: () => now, set: (next: string) => (now = new Date(next)) };
}

const call = (extra: Partial<Parameters<UsageStore["record"]>[0]> = {}) => ({
  sender: { userId: 42 } as Sender | undefined,
  chatId: -100123,
  model: "gpt-4o-mini",
  promptTokens: 1000,
  completionTokens: 200,
  cachedTokens: 100,
  costUsd: 0.0003,
  ...extra,
});

describe("UsageStore", () => {
  it("starts empty for a user and a chat", async () => {
    const store = new UsageStore(new Keyv());
    expect(await store.get({ userId: 1 })).toEqual({ today: emptyUsage(), month: emptyUsage(), total: emptyUsage() });
    expect(await store.get({ chatId: 1 })).toEqual({ today: emptyUsage(), month: emptyUsage(), total: emptyUsage() });
  });

  it("adds each call to the user and the chat, today, this month and in total", async () => {
    const shared = new MemorySharedState();
    const store = new UsageStore(new Keyv(), { ...clock("2026-11-25T10:00:00Z"), shared });
    await store.record(call());
    await store.record(call({ images: 1, costUsd: 0.042, promptTokens: 50, completionTokens: 0, cachedTokens: 0 }));
    const expected = {
      promptTokens: 1050,
      completionTokens: 200,
      cachedTokens: 100,
      images: 1,
      transcribedSeconds: 0,
      spokenSeconds: 0,
      costUsd: 0.0423,
      calls: 2,
      unpricedCalls: 0,
    };
    for (const scope of [{ userId: 42 }, { chatId: -100123 }]) {
      const usage = await store.get(scope);
      for (const period of [usage.today, usage.month, usage.total]) {
        expect({ ...period, costUsd: 0 }).toEqual({ ...expected, costUsd: 0 });
        expect(period.costUsd).toBeCloseTo(expected.costUsd, 12);
      }
    }
    expect(await shared.counters("usage:u:42:d:2026-11-25")).toMatchObject({ calls: 2 });
    expect(await shared.counters("usage:u:42:m:2026-11")).toMatchObject({ calls: 2 });
    expect(await shared.counters("usage:c:-100123:total")).toMatchObject({ calls: 2 });
    expect((await store.get({ userId: 43 })).total.calls).toBe(0);
  });

  it("adds seconds transcribed and spoken, and charges only the user when there is no chat (inline mode)", async () => {
    const store = new UsageStore(new Keyv(), clock("2026-11-25T10:00:00Z"));
    await store.record(call({ model: "gpt-4o-mini-transcribe", promptTokens: 0, completionTokens: 0, cachedTokens: 0, transcribedSeconds: 7, costUsd: 0.00035 }));
    await store.record(call({ model: "gpt-4o-mini-tts", promptTokens: 0, completionTokens: 0, cachedTokens: 0, spokenSeconds: 4, costUsd: 0.001 }));
    await store.record(call({ chatId: undefined, transcribedSeconds: 3 }));
    const user = (await store.get({ userId: 42 })).today;
    expect(user).toMatchObject({ transcribedSeconds: 10, spokenSeconds: 4, calls: 3, promptTokens: 1000 });
    const chat = (await store.get({ chatId: -100123 })).today;
    expect(chat).toMatchObject({ transcribedSeconds: 7, spokenSeconds: 4, calls: 2, promptTokens: 0 });
  });

  it("starts a new day at midnight UTC and a new month on the first", async () => {
    const time = clock("2026-11-30T23:59:30Z");
    const store = new UsageStore(new Keyv(), time);
    await store.record(call());
    time.set("2026-11-30T23:59:59.999Z");
    await store.record(call());
    expect((await store.get({ userId: 42 })).today.calls).toBe(2);

    time.set("2026-12-01T00:00:00Z");
    let usage = await store.get({ userId: 42 });
    expect(usage.today).toEqual(emptyUsage());
    expect(usage.month).toEqual(emptyUsage());
    expect(usage.total.calls).toBe(2);

    await store.record(call());
    time.set("2026-12-02T08:00:00Z");
    await store.record(call());
    usage = await store.get({ userId: 42 });
    expect(usage.today.calls).toBe(1);
    expect(usage.month.calls).toBe(2);
    expect(usage.total.calls).toBe(4);
    expect(usage.total.promptTokens).toBe(4000);
  });

  it("counts a day in UTC even when the clock's zone differs", async () => {
    // 2026-11-25T23:30-05:00 is already the 26th in UTC.
    const shared = new MemorySharedState();
    const store = new UsageStore(new Keyv(), { ...clock("2026-11-25T23:30:00-05:00"), shared });
    await store.record(call());
    expect(await shared.counters("usage:u:42:d:2026-11-26")).toMatchObject({ calls: 1 });
    expect(await shared.counters("usage:u:42:d:2026-11-25")).toEqual({});
    expect((await store.get({ userId: 42 })).today.calls).toBe(1);
  });

  it("lets day buckets expire and keeps totals", async () => {
    let t = Date.now();
    const shared = new MemorySharedState(() => t);
    const store = new UsageStore(new Keyv(), { shared });
    await store.record(call());
    const day = new Date().toISOString().slice(0, 10);
    t += DAY_TTL_MS - 60_000;
    expect(await shared.counters(`usage:u:42:d:${day}`)).toMatchObject({ calls: 1 });
    t += 60_001;
    expect(await shared.counters(`usage:u:42:d:${day}`)).toEqual({});
    expect(await shared.counters("usage:u:42:total")).toMatchObject({ calls: 1 });
  });

  it("charges only the chat when there is no user, and counts unpriced calls", async () => {
    const store = new UsageStore(new Keyv());
    await store.record(call({ sender: undefined, costUsd: null }));
    await store.record(call({ sender: undefined, costUsd: 0.01 }));
    const chat = await store.get({ chatId: -100123 });
    expect(chat.total).toMatchObject({ calls: 2, unpricedCalls: 1, costUsd: 0.01 });
    expect((await store.get({ userId: 42 })).total.calls).toBe(0);
  });

  it("keeps a chat writing as itself apart from the same chat's own totals and from users", async () => {
    const store = new UsageStore(new Keyv());
    await store.record(call({ sender: { senderChatId: -100123 }, promptTokens: 10, completionTokens: 5 }));
    expect((await store.get({ senderChatId: -100123 })).total).toMatchObject({ calls: 1, promptTokens: 10 });
    expect((await store.get({ chatId: -100123 })).total).toMatchObject({ calls: 1, promptTokens: 10 });
    expect((await store.get({ userId: 42 })).total.calls).toBe(0);
    await store.record(call({ promptTokens: 1 }));
    expect((await store.get({ senderChatId: -100123 })).total.calls).toBe(1);
    expect((await store.get({ chatId: -100123 })).total.calls).toBe(2);
  });

  it("loses no update when many calls are recorded at once", async () => {
    const store = new UsageStore(new Keyv({ store: new Map() }));
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.record(call({ promptTokens: i + 1 }))));
    const { total, today } = await store.get({ userId: 42 });
    expect(total.calls).toBe(50);
    expect(total.promptTokens).toBe((50 * 51) / 2);
    expect(today.calls).toBe(50);
  });

  it("ignores negative or non-finite numbers, adds records of older versions and reads damaged entries as zero", async () => {
    const keyv = new Keyv();
    const store = new UsageStore(keyv, clock("2026-11-25T10:00:00Z"));
    await keyv.set("usage:u:42:total", { calls: "many", promptTokens: -5, costUsd: 1.5 });
    await store.record(call({ promptTokens: -10, completionTokens: Number.NaN, costUsd: Number.POSITIVE_INFINITY }));
    expect((await store.get({ userId: 42 })).total).toEqual({ ...emptyUsage(), calls: 1, cachedTokens: 100, costUsd: 1.5 });
  });
});
