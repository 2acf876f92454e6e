import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Api, Bot, GrammyError, InputFile } from "grammy";
import type { MessageEntity } from "grammy/types";
import { MESSAGE_NOT_MODIFIED, startBotApiServer, type BotApiServer, type FakeUser } from "./bot-api.js";
import { solidPng } from "./openai.js";

const alice: FakeUser = { id: 1001, first_name: "Alice", username: "alice_user", language_code: "en" };
const GROUP = -100500;

let server: BotApiServer;
let api: Api;

async function failure(promise: Promise<unknown>): Promise<GrammyError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof GrammyError) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

beforeEach(async () => {
  server = await startBotApiServer();
  server.addChat({ id: alice.id, type: "private", first_name: alice.first_name, username: alice.username });
  server.addUser(alice);
  server.addChat({ id: GROUP, type: "supergroup", title: "Test group" });
  api = new Api(server.token, { apiRoot: server.apiRoot });
});

afterEach(async () => {
  await server.close();
});

describe("routing", () => {
  it("answers getMe with the bot user", async () => {
    const me = await api.getMe();
    expect(me).toMatchObject({ id: 123456, is_bot: true, username: "test_ai_bot" });
  });

  it("refuses a wrong token with 401 and an unknown method with 404", async () => {
    const wrong = new Api("999:nope", { apiRoot: server.apiRoot });
    const unauthorized = await failure(wrong.getMe());
    expect(unauthorized.error_code).toBe(401);
    expect(unauthorized.description).toBe("Unauthorized");

    const res = await fetch(`${server.apiRoot}/bot${server.token}/noSuchMethod`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ ok: false, error_code: 404, description: "Not Found" });
  });

  it("accepts urlencoded and GET query parameters and coerces them", async () => {
    const res = await fetch(`${server.apiRoot}/bot${server.token}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ chat_id: String(alice.id), text: "form", entities: JSON.stringify([{ type: "bold", offset: 0, length: 4 }]) }),
    });
    const body = (await res.json()) as { ok: boolean; result: { text: string; entities: MessageEntity[] } };
    expect(body.ok).toBe(true);
    expect(body.result.entities).toEqual([{ type: "bold", offset: 0, length: 4 }]);
    expect(server.calls.at(-1)?.params.chat_id).toBe(alice.id);

    const get = await fetch(`${server.apiRoot}/bot${server.token}/getChat?chat_id=${GROUP}`);
    expect(((await get.json()) as { result: { title: string } }).result.title).toBe("Test group");
  });

  it("rejects missing and wrongly typed parameters", async () => {
    const noChat = await failure(api.raw.sendMessage({ text: "hi" } as never));
    expect(noChat.description).toBe("Bad Request: chat_id is empty");
    const unknownChat = await failure(api.sendMessage(42, "hi"));
    expect(unknownChat.description).toBe("Bad Request: chat not found");
    const noText = await failure(api.raw.sendMessage({ chat_id: alice.id } as never));
    expect(noText.description).toBe("Bad Request: message text is empty");
    const blank = await failure(api.sendMessage(alice.id, "  \n "));
    expect(blank.description).toBe("Bad Request: message text is empty");
    const badType = await failure(api.raw.sendMessage({ chat_id: alice.id, text: "x", message_thread_id: "seven" } as never));
    expect(badType.error_code).toBe(400);
    expect(badType.description).toMatch(/^Bad Request: .*message_thread_id/);
    expect(server.messages(alice.id)).toHaveLength(0);
  });
});

describe("getUpdates", () => {
  it("long-polls until a user message arrives, and offset confirms it", async () => {
    const started = Date.now();
    const poll = api.getUpdates({ timeout: 10 });
    setTimeout(() => server.userSends({ chat: alice.id, from: alice.id, text: "/start@test_ai_bot hello @someone" }), 100);
    const updates = await poll;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(updates).toHaveLength(1);
    const message = updates[0]!.message!;
    expect(message.text).toBe("/start@test_ai_bot hello @someone");
    expect(message.chat).toMatchObject({ id: alice.id, type: "private", first_name: "Alice" });
    expect(message.from).toMatchObject({ id: alice.id, is_bot: false });
    expect(message.entities).toEqual([
      { type: "bot_command", offset: 0, length: 18 },
      { type: "mention", offset: 25, length: 8 },
    ]);

    const again = await api.getUpdates({ timeout: 0 });
    expect(again.map((u) => u.update_id)).toEqual([updates[0]!.update_id]);
    const confirmed = await api.getUpdates({ offset: updates[0]!.update_id + 1, timeout: 0 });
    expect(confirmed).toEqual([]);
  });

  it("answers a pending poll with [] on close, and an older poll with 409 when a newer one arrives", async () => {
    const first = api.getUpdates({ timeout: 20 });
    await server.waitFor(() => true, { timeoutMs: 50 }).catch(() => undefined);
    const second = api.getUpdates({ timeout: 20 });
    const conflict = await failure(first);
    expect(conflict.error_code).toBe(409);
    expect(conflict.description).toMatch(/^Conflict: terminated by other getUpdates request/);
    await server.close();
    expect(await second).toEqual([]);
  });

  it("drives a real grammY bot end to end", async () => {
    const bot = new Bot(server.token, { client: { apiRoot: server.apiRoot } });
    bot.command("start", (ctx) => ctx.reply("Welcome!", { reply_parameters: { message_id: ctx.msg.message_id } }));
    const running = bot.start({ drop_pending_updates: true });
    // drop_pending_updates goes through deleteWebhook; anything sent after it is delivered.
    await server.waitFor((c) => c.method === "deleteWebhook");
    const sent = server.userSends({ chat: alice.id, from: alice.id, text: "/start" });
    const reply = await server.waitFor((c) => c.method === "sendMessage");
    expect(reply.status).toBe(200);
    const [, botMessage] = server.messages(alice.id);
    expect(botMessage).toMatchObject({ text: "Welcome!", reply_to_message_id: sent.message_id, from: { id: 123456 } });
    await bot.stop();
    await running;
  });
});

describe("sending and editing", () => {
  it("sends, edits and refuses an edit that changes nothing", async () => {
    const sent = await api.sendMessage(alice.id, "Hello", { entities: [{ type: "bold", offset: 0, length: 5 }] });
    expect(sent).toMatchObject({ message_id: 1, text: "Hello", chat: { id: alice.id }, from: { is_bot: true } });

    const edited = await api.editMessageText(alice.id, sent.message_id, "Hello world", {
      entities: [{ type: "bold", offset: 0, length: 5 }],
    });
    expect(edited).toMatchObject({ text: "Hello world", edit_date: expect.any(Number) });

    // Same text and the same entities in another order and key order: not modified.
    const sameEntities = [
      { type: "italic", offset: 6, length: 5 },
      { length: 5, offset: 0, type: "bold" },
    ] as MessageEntity[];
    await api.editMessageText(alice.id, sent.message_id, "Hello world", { entities: sameEntities });
    const notModified = await failure(
      api.editMessageText(alice.id, sent.message_id, "Hello world", { entities: [...sameEntities].reverse() }),
    );
    expect(notModified.description).toBe(MESSAGE_NOT_MODIFIED);

    const stored = server.messages(alice.id)[0]!;
    expect(stored.edits).toBe(2);
    expect(stored.editHistory.map((v) => v.text)).toEqual(["Hello world", "Hello world"]);

    const missing = await failure(api.editMessageText(alice.id, 99, "x"));
    expect(missing.description).toBe("Bad Request: message to edit not found");
    const userMessage = server.userSends({ chat: alice.id, from: alice.id, text: "mine" });
    const notBots = await failure(api.editMessageText(alice.id, userMessage.message_id, "changed"));
    expect(notBots.description).toBe("Bad Request: message to edit not found");
  });

  it("treats a changed reply markup as a modification and validates it", async () => {
    const sent = await api.sendMessage(alice.id, "Pick", { reply_markup: { inline_keyboard: [[{ text: "Stop", callback_data: "stop" }]] } });
    const removed = await api.editMessageText(alice.id, sent.message_id, "Pick");
    expect(removed).not.toHaveProperty("reply_markup");
    expect(server.message(alice.id, sent.message_id)?.reply_markup).toBeUndefined();
    const tooLong = await failure(
      api.sendMessage(alice.id, "x", { reply_markup: { inline_keyboard: [[{ text: "a", callback_data: "d".repeat(65) }]] } }),
    );
    expect(tooLong.description).toBe("Bad Request: BUTTON_DATA_INVALID");
  });

  it("enforces 4096 UTF-16 code units per message", async () => {
    await api.sendMessage(alice.id, "a".repeat(4096));
    await api.sendMessage(alice.id, "😀".repeat(2048));
    const tooLong = await failure(api.sendMessage(alice.id, "a".repeat(4097)));
    expect(tooLong.description).toBe("Bad Request: message is too long");
    const emojiTooLong = await failure(api.sendMessage(alice.id, "😀".repeat(2049)));
    expect(emojiTooLong.description).toBe("Bad Request: message is too long");
    expect(server.botMessages(alice.id)).toHaveLength(2);
  });

  it("refuses parse_mode: the bot must send entities", async () => {
    const err = await failure(api.sendMessage(alice.id, "*bold*", { parse_mode: "MarkdownV2" }));
    expect(err.description).toBe("Bad Request: can't parse entities: this test server accepts entities only");
  });

  it("rejects invalid entities and accepts properly nested ones", async () => {
    const text = "bold italic code 😀 link";
    const bad: Array<[unknown, RegExp]> = [
      [[{ type: "bold", offset: 0, length: 8 }, { type: "italic", offset: 5, length: 6 }], /overlap partially/],
      [[{ type: "bold", offset: 0, length: 16 }, { type: "code", offset: 12, length: 4 }], /can't be nested/],
      [[{ type: "code", offset: 0, length: 16 }, { type: "bold", offset: 0, length: 4 }], /can't be nested/],
      [[{ type: "blockquote", offset: 0, length: 16 }, { type: "expandable_blockquote", offset: 0, length: 4 }], /can't be nested/],
      [[{ type: "bold", offset: 20, length: 10 }], /beyond the text length/],
      [[{ type: "bold", offset: 17, length: 1 }], /surrogate pair/],
      [[{ type: "text_link", offset: 20, length: 4, url: "javascript:alert(1)" }], /invalid url/],
      [[{ type: "shiny", offset: 0, length: 4 }], /unsupported type/],
      [[{ type: "bold", offset: 0, length: 0 }], /length below 1/],
      [[{ type: "bold", offset: -1, length: 2 }], /negative offset/],
      [[{ type: "bold", offset: 0.5, length: 2 }], /offset must be an integer/],
      [{ type: "bold", offset: 0, length: 2 }, /array/],
      [["bold"], /not an object/],
    ];
    for (const [entities, reason] of bad) {
      const err = await failure(api.sendMessage(alice.id, text, { entities: entities as MessageEntity[] }));
      expect(err.description).toMatch(/^Bad Request: can't parse entities: /);
      expect(err.description).toMatch(reason);
    }
    const good: MessageEntity[] = [
      { type: "blockquote", offset: 0, length: 24 },
      { type: "bold", offset: 0, length: 11 },
      { type: "italic", offset: 5, length: 6 },
      { type: "underline", offset: 5, length: 6 },
      { type: "code", offset: 12, length: 4 },
      { type: "bold", offset: 17, length: 2 },
      { type: "text_link", offset: 20, length: 4, url: "https://example.com/x" },
      { type: "italic", offset: 20, length: 4 },
    ];
    const sent = await api.sendMessage(alice.id, text, { entities: good });
    expect(sent.entities).toEqual(good);
    expect(server.botMessages(alice.id)).toHaveLength(1);
  });

  it("checks reply_parameters and stores threads", async () => {
    const notFound = await failure(api.sendMessage(GROUP, "x", { reply_parameters: { message_id: 77 } }));
    expect(notFound.description).toBe("Bad Request: message to be replied not found");
    const allowed = await api.sendMessage(GROUP, "x", { reply_parameters: { message_id: 77, allow_sending_without_reply: true } });
    expect(allowed.reply_to_message).toBeUndefined();

    server.addChat({ id: -100777, type: "supergroup", title: "Forum", is_forum: true });
    const question = server.userSends({ chat: -100777, from: alice, text: "q", threadId: 5 });
    const answer = await api.sendMessage(-100777, "a", { message_thread_id: 5, reply_parameters: { message_id: question.message_id } });
    expect(answer).toMatchObject({ message_thread_id: 5, is_topic_message: true, reply_to_message: { text: "q" } });
    expect(server.messages(-100777).at(-1)).toMatchObject({ message_thread_id: 5, reply_to_message_id: question.message_id });
  });
});

describe("flood control", () => {
  it("answers 429 with retry_after past 3 messages per second in a chat", async () => {
    for (let i = 0; i < 3; i++) await api.sendMessage(alice.id, `m${i}`);
    const err = await failure(api.sendMessage(alice.id, "one too many"));
    expect(err.error_code).toBe(429);
    expect(err.description).toBe("Too Many Requests: retry after 1");
    expect(err.parameters.retry_after).toBe(1);
    expect(server.stats.tooManyRequests).toBe(1);
    expect(server.stats.tooManyRequestsByChat.get(alice.id)).toBe(1);
    expect(server.botMessages(alice.id)).toHaveLength(3);
    // Edits share the window; chat actions are not limited.
    const editErr = await failure(api.editMessageText(alice.id, 1, "changed"));
    expect(editErr.error_code).toBe(429);
    await api.sendChatAction(alice.id, "typing");
  });

  it("limits a group to 20 per minute, with retry_after counted from the oldest entry", async () => {
    server.limits.perChat = { max: 1000, windowMs: 1000 };
    for (let i = 0; i < 20; i++) await api.sendMessage(GROUP, `m${i}`);
    const err = await failure(api.sendMessage(GROUP, "late"));
    expect(err.error_code).toBe(429);
    expect(err.parameters.retry_after).toBeGreaterThanOrEqual(59);
    expect(err.parameters.retry_after).toBeLessThanOrEqual(60);
    // Another chat is not affected by the group window.
    await api.sendMessage(alice.id, "fine");
  });

  it("applies the global window and counts drafts separately per private chat", async () => {
    server.limits.global = { max: 8, windowMs: 1000 };
    for (let i = 1; i <= 5; i++) await api.sendMessageDraft(alice.id, 1, `draft ${i}`);
    const draftErr = await failure(api.sendMessageDraft(alice.id, 1, "draft 6"));
    expect(draftErr.error_code).toBe(429);
    // Drafts did not use the message window: three messages still pass, then the global window (8) is full.
    for (let i = 0; i < 3; i++) await api.sendMessage(alice.id, `m${i}`);
    const globalErr = await failure(api.sendMessage(GROUP, "global"));
    expect(globalErr.error_code).toBe(429);
    expect(server.stats.tooManyRequests).toBe(2);
  });
});

describe("drafts", () => {
  it("stores draft updates in private chats only", async () => {
    await api.sendMessageDraft(alice.id, 7, "");
    await api.sendMessageDraft(alice.id, 7, "Hel");
    await api.sendMessageDraft(alice.id, 7, "Hello", { entities: [{ type: "bold", offset: 0, length: 5 }] });
    const [draft] = server.drafts(alice.id);
    expect(draft).toMatchObject({ draft_id: 7, text: "Hello", entities: [{ type: "bold", offset: 0, length: 5 }] });
    expect(draft!.history.map((u) => u.text)).toEqual(["", "Hel", "Hello"]);

    const group = await failure(api.sendMessageDraft(GROUP, 7, "x"));
    expect(group.description).toBe("Bad Request: draft can't be sent to this chat");
    const zero = await failure(api.sendMessageDraft(alice.id, 0, "x"));
    expect(zero.error_code).toBe(400);
    const badEntity = await failure(api.sendMessageDraft(alice.id, 7, "ab", { entities: [{ type: "bold", offset: 1, length: 5 }] }));
    expect(badEntity.description).toMatch(/^Bad Request: can't parse entities: /);
  });

  it("answers 404 like an older server when drafts are not supported", async () => {
    const old = await startBotApiServer({ draftsSupported: false });
    old.addChat({ id: 5, type: "private", first_name: "Bob" });
    const oldApi = new Api(old.token, { apiRoot: old.apiRoot });
    const err = await failure(oldApi.sendMessageDraft(5, 1, "x"));
    expect(err.error_code).toBe(404);
    expect(err.description).toBe("Not Found");
    await old.close();
  });
});

describe("files and media", () => {
  it("serves user photos through getFile and the file URL", async () => {
    const png = solidPng({ width: 640, height: 480 }, "cat");
    const msg = server.userSends({ chat: alice.id, from: alice.id, photo: png, caption: "what is this?" });
    const sizes = msg.photo as Array<{ file_id: string; width: number; height: number }>;
    expect(sizes.map((s) => [s.width, s.height])).toEqual([
      [90, 68],
      [320, 240],
      [640, 480],
    ]);
    const file = await api.getFile(sizes.at(-1)!.file_id);
    expect(file.file_size).toBe(png.length);
    const res = await fetch(`${server.apiRoot}/file/bot${server.token}/${file.file_path}`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(png);

    const wrongToken = await fetch(`${server.apiRoot}/file/bot1:x/${file.file_path}`);
    expect(wrongToken.status).toBe(401);

    const big = server.addFile(new Uint8Array(20 * 1024 * 1024 + 1));
    const tooBig = await failure(api.getFile(big.file_id));
    expect(tooBig.description).toBe("Bad Request: file is too big");
  });

  it("accepts a multipart photo upload with JSON-encoded fields", async () => {
    server.limits.perChat = { max: 100, windowMs: 1000 };
    const question = server.userSends({ chat: GROUP, from: alice, text: "/image a cat" });
    const png = solidPng({ width: 300, height: 200 }, "x");
    const sent = await api.sendPhoto(GROUP, new InputFile(png, "cat.png"), {
      caption: "A cat",
      caption_entities: [{ type: "bold", offset: 2, length: 3 }],
      reply_parameters: { message_id: question.message_id },
      reply_markup: { inline_keyboard: [[{ text: "IPFS", url: "https://ipfs.io/ipfs/bafy" }]] },
    });
    expect(sent.photo).toEqual([expect.objectContaining({ width: 300, height: 200, file_size: png.length })]);
    expect(sent).toMatchObject({ caption: "A cat", caption_entities: [{ type: "bold", offset: 2, length: 3 }] });
    expect(server.fileBytes(sent.photo[0]!.file_id)).toEqual(png);
    expect(server.messages(GROUP).at(-1)).toMatchObject({ reply_to_message_id: question.message_id });

    const longCaption = await failure(api.sendPhoto(GROUP, new InputFile(png), { caption: "c".repeat(1025) }));
    expect(longCaption.description).toBe("Bad Request: message caption is too long");

    const edited = await api.editMessageCaption(GROUP, sent.message_id, { caption: "A grey cat" });
    expect(edited).toMatchObject({ caption: "A grey cat" });

    const byUrl = await api.sendPhoto(GROUP, "https://example.com/cat.png");
    expect(server.message(GROUP, byUrl.message_id)?.photo_url).toBe("https://example.com/cat.png");
    const doc = await api.sendDocument(GROUP, new InputFile(new TextEncoder().encode("notes"), "notes.txt"), { caption: "Notes" });
    expect(doc.document).toMatchObject({ file_name: "notes.txt", mime_type: "text/plain", file_size: 5 });
    const wrong = await failure(api.sendPhoto(GROUP, "not-a-file-id"));
    expect(wrong.description).toBe("Bad Request: wrong file identifier/HTTP URL specified");
  });
});

describe("observing and fault injection", () => {
  it("fails the next calls on demand, waits for calls and delays answers", async () => {
    server.failNext("sendMessage", { error_code: 403, description: "Forbidden: bot was blocked by the user" });
    const blocked = await failure(api.sendMessage(alice.id, "x"));
    expect(blocked.error_code).toBe(403);
    expect(server.botMessages(alice.id)).toHaveLength(0);

    const mark = server.calls.length;
    const waiting = server.waitFor((c) => c.method === "sendMessage" && c.status === 200, { after: mark });
    server.latencyMs = 120;
    const started = Date.now();
    await api.sendMessage(alice.id, "late");
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    const call = await waiting;
    expect(call.params).toMatchObject({ chat_id: alice.id, text: "late" });
    await expect(server.waitFor((c) => c.method === "never", 50)).rejects.toThrow(/no matching call/);
  });

  it("serves chat members, administrators, commands and callback answers", async () => {
    server.setChatMember(GROUP, alice, "creator");
    server.setChatMember(GROUP, server.botUser, "administrator");
    const member = await api.getChatMember(GROUP, alice.id);
    expect(member.status).toBe("creator");
    const admins = await api.getChatAdministrators(GROUP);
    expect(admins.map((a) => a.user.id).sort()).toEqual([alice.id, server.botUser.id].sort());
    const privateAdmins = await failure(api.getChatAdministrators(alice.id));
    expect(privateAdmins.error_code).toBe(400);

    await api.setMyCommands([{ command: "ask", description: "Ask a question" }], { language_code: "en" });
    expect(await api.getMyCommands({ language_code: "en" })).toEqual([{ command: "ask", description: "Ask a question" }]);
    expect(await api.getMyCommands()).toEqual([]);
    const badCommand = await failure(api.setMyCommands([{ command: "Bad-Command", description: "x" }]));
    expect(badCommand.description).toBe("Bad Request: BOT_COMMAND_INVALID");

    const sent = await api.sendMessage(GROUP, "Stop?", { reply_markup: { inline_keyboard: [[{ text: "Stop", callback_data: "stop" }]] } });
    const queryId = server.userPresses({ chat: GROUP, from: alice.id, messageId: sent.message_id, data: "stop" });
    const tooLong = await failure(api.answerCallbackQuery(queryId, { text: "x".repeat(201) }));
    expect(tooLong.description).toBe("Bad Request: MESSAGE_TOO_LONG");
    expect(await api.answerCallbackQuery(queryId)).toBe(true);
    const twice = await failure(api.answerCallbackQuery(queryId));
    expect(twice.description).toMatch(/query ID is invalid/);
  });
});
