/**
 * Questions with their context, end to end over real HTTP: what a question replies to (another user's text with
 * their name, a partial quote, a photo the vision model sees, a document), forwards joined with their comment, long
 * pastes split by the client joined back into one question, albums as one question, and none of it making a short
 * question wait. Assertions are on what the OpenAI test server received and what the chat shows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botText, newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";
import type { FakeUser } from "../servers/bot-api.js";
import type { ChatRequestBody } from "../servers/openai.js";
import { makePng } from "../fixtures/images.js";
import { MessageJoiner } from "../../src/bot/message-joiner.js";
import { historyKey } from "../../src/storage/history.js";

let h: Harness;
let joiner: MessageJoiner;

beforeAll(async () => {
  h = await startHarness();
  joiner = h.app.deps.joiner;
});
afterAll(() => h.close());

/** The text of a request's last user message (its text part when it carries pictures). */
function lastUserText(body: ChatRequestBody): string {
  const user = body.messages.filter((m) => m.role === "user").at(-1)!;
  if (typeof user.content === "string") return user.content;
  return (user.content as Array<{ type: string; text?: string }>).filter((p) => p.type === "text").map((p) => p.text).join("\n");
}
/** The image parts of a request's last user message. */
function lastUserImages(body: ChatRequestBody): string[] {
  const user = body.messages.filter((m) => m.role === "user").at(-1)!;
  if (!Array.isArray(user.content)) return [];
  return (user.content as Array<{ type: string; image_url?: { url: string } }>).filter((p) => p.type === "image_url").map((p) => p.image_url!.url);
}
const requestsSince = (n: number) => h.openai.chatRequests().slice(n);

/** Someone writes (not to the bot); returns once the bot has handled that update. */
async function posted(opts: Parameters<Harness["telegram"]["userSends"]>[0]) {
  const before = h.app.handled;
  const msg = h.telegram.userSends(opts);
  await h.app.whenHandled(before + 1);
  return msg;
}

/** Sends several messages the way a client does (one update each, back to back) and waits for all to be handled. */
async function sendAll(send: () => unknown[]): Promise<void> {
  const before = h.app.handled;
  const sent = send();
  await h.app.whenHandled(before + sent.length);
}

let nextUser = 70_000 + Math.floor(Math.random() * 1e6);
const person = (first_name: string, last_name?: string): FakeUser => {
  const u: FakeUser = { id: nextUser++, first_name, ...(last_name ? { last_name } : {}), language_code: "en" };
  h.telegram.addUser(u);
  return u;
};

describe("replies to someone else's message", () => {
  it("includes the replied text with its author's name", async () => {
    const { chat, user: alice } = newGroup(h);
    const bob = person("Bob", "Stone");
    const original = await posted({ chat: chat.id, from: bob, text: "The meeting is at 10 in room B, bring the slides." });
    const from = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: alice, text: "/ask where is it?", replyTo: original.message_id });
    const [request] = requestsSince(from);
    const question = lastUserText(request!);
    expect(question).toContain("Bob Stone");
    expect(question).toContain("The meeting is at 10 in room B, bring the slides.");
    expect(question.endsWith("where is it?")).toBe(true);
  });

  it("includes only the quoted part when the reply quotes one", async () => {
    const { chat, user: alice } = newGroup(h);
    const bob = person("Bob");
    const original = await posted({ chat: chat.id, from: bob, text: "Lunch is at noon. The budget review moved to Friday at 3." });
    const from = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: alice, text: `@${h.app.bot.botInfo.username} which day?`, replyTo: original.message_id, quote: { text: "moved to Friday" } });
    const question = lastUserText(requestsSince(from)[0]!);
    expect(question).toContain("moved to Friday");
    expect(question).toContain("Bob");
    expect(question).not.toContain("Lunch is at noon");
    expect(question.endsWith("which day?")).toBe(true);
  });

  it("shows the replied photo to the vision model, with its caption and author", async () => {
    const { chat, user: alice } = newGroup(h);
    const bob = person("Bob");
    const photo = await posted({ chat: chat.id, from: bob, photo: makePng(64, 48, 3), caption: "our new logo" });
    const from = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: alice, text: "/ask what colour is it?", replyTo: photo.message_id });
    const request = requestsSince(from)[0]!;
    expect(lastUserImages(request)).toHaveLength(1);
    expect(lastUserImages(request)[0]).toMatch(/^data:image\/png;base64,/);
    expect(lastUserText(request)).toContain("our new logo");
    expect(lastUserText(request)).toContain("Bob");
  });

  it("reads the replied document through the documents path", async () => {
    const { chat, user: alice } = newGroup(h);
    const bob = person("Bob");
    const text = "Inventory: 14 lanterns, 3 ladders, 27 candles in the north shed.";
    const doc = await posted({ chat: chat.id, from: bob, document: { bytes: new TextEncoder().encode(text), file_name: "inventory.txt", mime_type: "text/plain" } });
    const from = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: alice, text: "/ask how many candles?", replyTo: doc.message_id });
    const request = requestsSince(from)[0]!;
    const context = request.messages.filter((m) => m.role === "system").map((m) => String(m.content)).join("\n");
    expect(context).toContain('<document title="inventory.txt">');
    expect(context).toContain("27 candles");
    expect(lastUserText(request)).toContain("how many candles?");
  });
});

describe("forwards with a comment", () => {
  it("joins forwards and the comment after them into one question with one answer", async () => {
    const { chat, user } = newPrivateChat(h);
    const bob = person("Bob");
    const from = h.openai.chatRequests().length;
    await sendAll(() => [
      h.telegram.userSends({ chat: chat.id, from: user, text: "Train leaves at 7:40 from platform 2.", forwardOrigin: { type: "user", user: bob } }),
      h.telegram.userSends({ chat: chat.id, from: user, text: "Bring the tickets.", forwardOrigin: { type: "hidden_user", sender_user_name: "Carol" } }),
      h.telegram.userSends({ chat: chat.id, from: user, text: "what time should I leave home?" }),
    ]);
    const requests = requestsSince(from);
    expect(requests).toHaveLength(1);
    const question = lastUserText(requests[0]!);
    expect(question).toContain("what time should I leave home?");
    expect(question).toContain("Forwarded from Bob:\nTrain leaves at 7:40 from platform 2.");
    expect(question).toContain("Forwarded from Carol:\nBring the tickets.");
    expect(h.telegram.botMessages(chat.id)).toHaveLength(1);
  });

  it("takes over a comment sent right before the forwards: one answer, one exchange in history", async () => {
    const { chat, user } = newPrivateChat(h);
    const bob = person("Bob");
    await sendAll(() => [
      h.telegram.userSends({ chat: chat.id, from: user, text: "summarise this" }),
      h.telegram.userSends({ chat: chat.id, from: user, text: "The roof repair is done; the invoice follows.", forwardOrigin: { type: "user", user: bob } }),
    ]);
    const last = h.openai.chatRequests().at(-1)!;
    expect(lastUserText(last)).toContain("summarise this");
    expect(lastUserText(last)).toContain("Forwarded from Bob:\nThe roof repair is done; the invoice follows.");
    const messages = h.telegram.botMessages(chat.id);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.text).toContain("The roof repair is done");
    const turns = await h.app.deps.history.load(historyKey(chat.id));
    expect(turns.filter((t) => t.role === "user")).toHaveLength(1);
  });
});

const paragraph = (n: number) => `Paragraph ${n}: ` + "the quick brown fox jumps over the lazy dog ".repeat(9).trim();

describe("a comment answered alone, then forwards", () => {
  // Forwards join a comment answered up to 30 s before them: always within that, however slow the machine.
  const slowWindows = () => (h.app.deps.joiner = new MessageJoiner({ commentWindowMs: 30_000 }));

  it("aborts the comment's answer still streaming (its stream not read to the end) and answers all as one", async () => {
    slowWindows();
    try {
      const { chat, user } = newPrivateChat(h);
      const bob = person("Bob");
      h.openai.enqueue({ text: "A long answer to the comment alone. ".repeat(20), chunkSize: 4, delayMs: 20 });
      const before = h.app.handled;
      const started = h.openai.nextChatStream();
      h.telegram.userSends({ chat: chat.id, from: user, text: "what do you think of this?" });
      const commentStream = await started;
      h.telegram.userSends({ chat: chat.id, from: user, text: "We ship on Monday.", forwardOrigin: { type: "user", user: bob } });
      await h.app.whenHandled(before + 2);
      await commentStream.ended;
      expect(commentStream.aborted).toBe(true);
      expect(commentStream.completed).toBe(false);
      const last = h.openai.chatRequests().at(-1)!;
      expect(lastUserText(last)).toBe("what do you think of this?\n\nForwarded from Bob:\nWe ship on Monday.");
      const messages = h.telegram.botMessages(chat.id);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.text).toContain("We ship on Monday.");
      const turns = await h.app.deps.history.load(historyKey(chat.id));
      expect(turns.map((t) => t.role)).toEqual(["user", "assistant"]);
      expect(turns[0]!.content).toContain("Forwarded from Bob");
    } finally {
      h.app.deps.joiner = joiner;
    }
  });

  it("replaces the comment's finished answer in place", async () => {
    slowWindows();
    try {
      const { chat, user } = newPrivateChat(h);
      await say(h, { chat: chat.id, from: user, text: "is this true?" });
      const [answer] = h.telegram.botMessages(chat.id);
      expect(answer!.text).toBe("You said: is this true?");
      await sendAll(() => [h.telegram.userSends({ chat: chat.id, from: user, text: "The moon is made of cheese.", forwardOrigin: { type: "hidden_user", sender_user_name: "Uncle" } })]);
      const messages = h.telegram.botMessages(chat.id);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.message_id).toBe(answer!.message_id);
      expect(messages[0]!.text).toBe("You said: is this true?\n\nForwarded from Uncle:\nThe moon is made of cheese.");
      const turns = await h.app.deps.history.load(historyKey(chat.id));
      expect(turns).toHaveLength(2);
      expect(turns[0]!.content).toContain("The moon is made of cheese.");
    } finally {
      h.app.deps.joiner = joiner;
    }
  });
});

describe("long pastes", () => {
  it("joins an 8,000-character paste split by the client into one question with one answer", async () => {
    const { chat, user } = newPrivateChat(h);
    let text = "";
    for (let i = 1; text.length < 8000; i++) text += (text ? "\n\n" : "") + paragraph(i);
    text = text.slice(0, 8000).trim();
    const from = h.openai.chatRequests().length;
    h.openai.enqueue({ text: "Got the whole text." });
    let parts = 0;
    await sendAll(() => {
      const sent = h.telegram.userPastes({ chat: chat.id, from: user, text });
      parts = sent.length;
      return sent;
    });
    expect(parts).toBeGreaterThanOrEqual(2);
    const requests = requestsSince(from);
    expect(requests).toHaveLength(1);
    // The whole text, every word of it, in one question.
    expect(lastUserText(requests[0]!).replace(/\s+/g, " ")).toBe(text.replace(/\s+/g, " "));
    expect(botText(h, chat.id)).toBe("Got the whole text.");
  });

  it("answers a short question at once, also right after a paste whose short last part completed it", async () => {
    // Windows far longer than the test's wait: anything that waited for one would time out.
    h.app.deps.joiner = new MessageJoiner({ pasteWindowMs: 120_000, groupWindowMs: 120_000 });
    try {
      const { chat, user } = newPrivateChat(h);
      let text = "";
      for (let i = 1; text.length < 9000; i++) text += (text ? "\n\n" : "") + paragraph(i);
      const from = h.openai.chatRequests().length;
      await sendAll(() => h.telegram.userPastes({ chat: chat.id, from: user, text }));
      await say(h, { chat: chat.id, from: user, text: "and in one sentence?" });
      const requests = requestsSince(from);
      expect(requests).toHaveLength(2);
      expect(lastUserText(requests[0]!)).toContain(paragraph(1));
      expect(lastUserText(requests[1]!)).toBe("and in one sentence?");
    } finally {
      h.app.deps.joiner = joiner;
    }
  });
});

describe("albums", () => {
  it("answers an album of 3 photos as one question with the 3 pictures", async () => {
    const { chat, user } = newPrivateChat(h);
    const from = h.openai.chatRequests().length;
    await sendAll(() =>
      h.telegram.userSendsAlbum({
        chat: chat.id,
        from: user,
        caption: "which one is the brightest?",
        items: [{ photo: makePng(40, 30, 1) }, { photo: makePng(40, 30, 2) }, { photo: makePng(40, 30, 3) }],
      }),
    );
    const requests = requestsSince(from);
    expect(requests).toHaveLength(1);
    const images = lastUserImages(requests[0]!);
    expect(images).toHaveLength(3);
    expect(new Set(images).size).toBe(3);
    expect(lastUserText(requests[0]!)).toBe("which one is the brightest?");
    expect(h.telegram.botMessages(chat.id)).toHaveLength(1);
    const turns = await h.app.deps.history.load(historyKey(chat.id));
    expect(turns[0]!.images).toHaveLength(3);
  });

  it("answers an album of documents as one question with all of them", async () => {
    const { chat, user } = newPrivateChat(h);
    const from = h.openai.chatRequests().length;
    const doc = (name: string, text: string) => ({ document: { bytes: new TextEncoder().encode(text), file_name: name, mime_type: "text/plain" } });
    await sendAll(() =>
      h.telegram.userSendsAlbum({
        chat: chat.id,
        from: user,
        caption: "which shed has more candles?",
        items: [doc("north.txt", "North shed: 27 candles."), doc("south.txt", "South shed: 41 candles.")],
      }),
    );
    const requests = requestsSince(from);
    expect(requests).toHaveLength(1);
    const context = requests[0]!.messages.filter((m) => m.role === "system").map((m) => String(m.content)).join("\n");
    expect(context).toContain("North shed: 27 candles.");
    expect(context).toContain("South shed: 41 candles.");
    expect(lastUserText(requests[0]!)).toBe("📄 north.txt\n📄 south.txt\nwhich shed has more candles?");
    expect(h.telegram.botMessages(chat.id)).toHaveLength(1);
  });
});

describe("stopping", () => {
  it("answers a paste still waiting for its continuation when the bot stops, before it stops", async () => {
    h.app.deps.joiner = new MessageJoiner({ pasteWindowMs: 120_000 });
    const { chat, user } = newPrivateChat(h);
    const text = paragraph(1).repeat(40).slice(0, 3900);
    h.openai.enqueue({ text: "Answered on the way out." });
    const before = h.app.handled;
    h.telegram.userSends({ chat: chat.id, from: user, text });
    const deadline = Date.now() + 10_000;
    while (h.app.deps.joiner.pending === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(h.app.deps.joiner.pending).toBe(1);
    expect(h.app.handled).toBe(before);
    await h.restart();
    expect(botText(h, chat.id)).toBe("Answered on the way out.");
    expect(lastUserText(h.openai.chatRequests().at(-1)!)).toBe(text);
  });
});
