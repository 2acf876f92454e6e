import { describe, expect, it } from "vitest";
import type { Message } from "grammy/types";
import { LONG_PART_CHARS, MessageJoiner, PASTE_WINDOW_MS, GROUP_WINDOW_MS, type JoinClock, type JoinedMessages } from "./message-joiner.js";

/** A clock that only moves when the test moves it. */
class FakeClock implements JoinClock {
  time = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + ms, fn });
    return id;
  };
  clearTimeout = (id: unknown) => void this.#timers.delete(id as number);
  get timers(): number {
    return this.#timers.size;
  }
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = until;
  }
}

let nextId = 1;
const ALICE = { id: 7, is_bot: false, first_name: "Alice" };
const BOB = { id: 8, is_bot: false, first_name: "Bob" };
function message(fields: Partial<Message> & { from?: typeof ALICE; chatId?: number }): Message {
  const { from = ALICE, chatId = 7, ...rest } = fields;
  return { message_id: nextId++, date: 0, chat: { id: chatId, type: "private", first_name: from.first_name }, from, ...rest };
}
const text = (t: string, from = ALICE) => message({ text: t, from });
const long = (fill = "a") => text(fill.repeat(LONG_PART_CHARS + 100));
const forward = (t: string) => message({ text: t, forward_origin: { type: "user", date: 0, sender_user: BOB } });
const albumItem = (group: string, caption?: string) =>
  message({ media_group_id: group, photo: [{ file_id: `p${nextId}`, file_unique_id: "u", width: 1, height: 1 }], ...(caption ? { caption } : {}) });

function setup() {
  const clock = new FakeClock();
  const joiner = new MessageJoiner({ clock });
  const led: JoinedMessages[] = [];
  const offer = (msg: Message) => joiner.offer(msg, (joined) => led.push(joined));
  return { clock, joiner, led, offer };
}

describe("MessageJoiner", () => {
  it("lets a short question through at once, with no timer", () => {
    const { clock, offer, led, joiner } = setup();
    expect(offer(text("what is 2+2?"))).toEqual({ kind: "alone" });
    expect(clock.timers).toBe(0);
    expect(joiner.pending).toBe(0);
    expect(led).toEqual([]);
  });

  it("joins a long paste with its continuation; the short last part completes it without waiting", () => {
    const { clock, offer, led } = setup();
    const first = long("a");
    const second = long("b");
    const last = text("the end");
    expect(offer(first).kind).toBe("leads");
    clock.advance(PASTE_WINDOW_MS - 1);
    expect(offer(second).kind).toBe("joined");
    // The window runs from the last part.
    clock.advance(PASTE_WINDOW_MS - 1);
    expect(led).toEqual([]);
    expect(offer(last).kind).toBe("joined");
    expect(led).toEqual([{ kind: "paste", messages: [first, second, last] }]);
    expect(clock.timers).toBe(0);
  });

  it("answers a lone long text once its window has passed, and the next short one alone", () => {
    const { clock, offer, led } = setup();
    const only = long();
    offer(only);
    clock.advance(PASTE_WINDOW_MS);
    expect(led).toEqual([{ kind: "paste", messages: [only] }]);
    expect(offer(text("short")).kind).toBe("alone");
  });

  it("keeps senders and chats apart, and a command completes a pending paste before going alone", () => {
    const { offer, led } = setup();
    const paste = long();
    offer(paste);
    expect(offer(text("mine", BOB)).kind).toBe("alone");
    expect(offer(message({ text: "other chat", chatId: 99 })).kind).toBe("alone");
    expect(led).toEqual([]);
    const reset = message({ text: "/reset", entities: [{ type: "bot_command", offset: 0, length: 6 }] });
    expect(offer(reset).kind).toBe("alone");
    expect(led).toEqual([{ kind: "paste", messages: [paste] }]);
  });

  it("never joins a captioned photo: it completes a pending paste and is a question of its own", () => {
    const { offer, led } = setup();
    const paste = long();
    offer(paste);
    const photo = message({ caption: "and this?", photo: [{ file_id: "x", file_unique_id: "u", width: 1, height: 1 }] });
    expect(offer(photo).kind).toBe("alone");
    expect(led).toEqual([{ kind: "paste", messages: [paste] }]);
  });

  it("joins an album by media_group_id; another album or a text completes it", () => {
    const { clock, offer, led } = setup();
    const a = albumItem("g1", "compare");
    const b = albumItem("g1");
    const c = albumItem("g1");
    expect(offer(a).kind).toBe("leads");
    expect(offer(b).kind).toBe("joined");
    expect(offer(c).kind).toBe("joined");
    clock.advance(GROUP_WINDOW_MS - 1);
    expect(led).toEqual([]);
    const other = albumItem("g2");
    expect(offer(other).kind).toBe("leads");
    expect(led).toEqual([{ kind: "album", messages: [a, b, c] }]);
    clock.advance(GROUP_WINDOW_MS);
    expect(led[1]).toEqual({ kind: "album", messages: [other] });
  });

  it("joins forwards with the comment that follows them, at once", () => {
    const { clock, offer, led } = setup();
    const f1 = forward("one");
    const f2 = forward("two");
    const comment = text("what do you make of these?");
    offer(f1);
    expect(offer(f2).kind).toBe("joined");
    expect(offer(comment).kind).toBe("joined");
    expect(led).toEqual([{ kind: "forwards", messages: [f1, f2, comment], comment }]);
    expect(clock.timers).toBe(0);
  });

  it("takes over a comment that went through alone when forwards follow within the window", () => {
    const { clock, offer, led, joiner } = setup();
    const comment = text("summarise these");
    expect(offer(comment).kind).toBe("alone");
    clock.advance(50);
    const f1 = forward("one");
    expect(offer(f1)).toEqual({ kind: "leads", supersedes: comment });
    expect(joiner.isSuperseded(comment)).toBe(true);
    clock.advance(GROUP_WINDOW_MS);
    joiner.settled(comment);
    expect(joiner.isSuperseded(comment)).toBe(false);
    expect(led).toEqual([{ kind: "forwards", messages: [comment, f1], comment, supersedes: comment }]);
    // Too late: a forward long after a question is a question of its own.
    offer(text("another"));
    clock.advance(GROUP_WINDOW_MS + 1);
    expect(offer(forward("late"))).toEqual({ kind: "leads" });
  });

  it("hands joined messages over only after their leader, and flushAll completes everything and stops joining", async () => {
    const { offer, led, joiner } = setup();
    const order: string[] = [];
    const first = long();
    joiner.offer(first, () => order.push("leader"));
    const joined = offer(long("b"));
    if (joined.kind !== "joined") throw new Error("expected joined");
    void joined.handedOver.then(() => order.push("handed over"));
    expect(joiner.pending).toBe(1);
    joiner.flushAll();
    await joined.handedOver;
    expect(order).toEqual(["leader", "handed over"]);
    expect(joiner.pending).toBe(0);
    expect(offer(long("c")).kind).toBe("alone");
    expect(led).toEqual([]);
  });
});
