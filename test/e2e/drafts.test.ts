/**
 * When sendMessageDraft fails: a passing failure (5xx, 403, a timeout) skips that one draft; only a refusal of the
 * method itself switches to edits (the chat for "not in this chat", every chat for "no such method"), and drafts are
 * tried again an hour later.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiErrorBody } from "../servers/bot-api.js";
import { botText, chatCalls, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
/** The app's clock runs this far ahead of the real one. */
let ahead = 0;
beforeAll(async () => {
  h = await startHarness({ now: () => new Date(Date.now() + ahead) });
});
afterAll(() => h.close());

const LONG = "word ".repeat(60).trim();

/** Asks in a private chat and returns the answer's draft and message calls. */
async function ask(chatOf: ReturnType<typeof newPrivateChat>, text = LONG) {
  h.openai.enqueue({ text, chunkSize: 6, delayMs: 25 });
  const from = h.telegram.calls.length;
  await say(h, { chat: chatOf.chat.id, from: chatOf.user, text: "go" });
  const calls = chatCalls(h, chatOf.chat.id, from);
  return {
    drafts: calls.filter((c) => c.method === "sendMessageDraft"),
    edits: calls.filter((c) => c.method === "editMessageText"),
    sends: calls.filter((c) => c.method === "sendMessage"),
  };
}

describe("a draft that fails", () => {
  const passing: Array<[string, ApiErrorBody]> = [
    ["a 502", { error_code: 502, description: "Bad Gateway" }],
    ["a 500", { error_code: 500, description: "Internal Server Error: retry later" }],
    ["a 403", { error_code: 403, description: "Forbidden: bot was blocked by the user" }],
  ];
  for (const [name, error] of passing) {
    it(`on ${name} only skips that update: drafts go on, in this answer and the next`, async () => {
      const chat = newPrivateChat(h);
      h.telegram.failNext("sendMessageDraft", error);
      const first = await ask(chat);
      expect(first.drafts[0]!.status).toBe(error.error_code);
      expect(first.drafts.slice(1).filter((c) => c.status === 200).length).toBeGreaterThan(0);
      expect(first.edits).toEqual([]);
      const second = await ask(chat);
      expect(second.drafts.length).toBeGreaterThan(0);
      expect(second.drafts.every((c) => c.status === 200)).toBe(true);
      expect(second.edits).toEqual([]);
      expect(botText(h, chat.chat.id)).toBe(`${LONG}\n\n${LONG}`);
    });
  }

  it("refused for this chat (TEXTDRAFT_PEER_INVALID): that chat streams by edits, other chats keep drafts, and drafts are tried again an hour later", async () => {
    const refusing = newPrivateChat(h);
    const other = newPrivateChat(h);
    h.telegram.failNext("sendMessageDraft", { error_code: 400, description: "Bad Request: TEXTDRAFT_PEER_INVALID" });
    const first = await ask(refusing);
    expect(first.drafts.map((c) => c.status)).toEqual([400]);
    expect(first.edits.length).toBeGreaterThan(0);
    const again = await ask(refusing);
    expect(again.drafts).toEqual([]);
    expect(again.edits.length).toBeGreaterThan(0);
    const elsewhere = await ask(other);
    expect(elsewhere.drafts.length).toBeGreaterThan(0);
    expect(elsewhere.edits).toEqual([]);

    ahead += 61 * 60_000;
    const later = await ask(refusing);
    expect(later.drafts.length).toBeGreaterThan(0);
    expect(later.drafts.every((c) => c.status === 200)).toBe(true);
    expect(later.edits).toEqual([]);
    expect(botText(h, refusing.chat.id)).toBe([LONG, LONG, LONG].join("\n\n"));
  });

  it("refused as an unknown method (404): every chat streams by edits, and drafts are tried again an hour later", async () => {
    const a = newPrivateChat(h);
    const b = newPrivateChat(h);
    h.telegram.draftsSupported = false;
    try {
      const first = await ask(a);
      expect(first.drafts.map((c) => c.status)).toEqual([404]);
      expect(first.edits.length).toBeGreaterThan(0);
      const other = await ask(b);
      expect(other.drafts).toEqual([]);
      expect(other.edits.length).toBeGreaterThan(0);
    } finally {
      h.telegram.draftsSupported = true;
    }
    // The server learnt the method meanwhile: within the hour the bot does not ask, after it it does.
    const stillEdits = await ask(b);
    expect(stillEdits.drafts).toEqual([]);
    ahead += 61 * 60_000;
    const later = await ask(b);
    expect(later.drafts.length).toBeGreaterThan(0);
    expect(later.edits).toEqual([]);
    expect(botText(h, b.chat.id)).toBe([LONG, LONG, LONG].join("\n\n"));
  });
});
