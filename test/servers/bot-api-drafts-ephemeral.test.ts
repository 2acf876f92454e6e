// Bot API 10.3 on the test server: drafts with a stop button (can_stop, keep_on_stop, stopped_message_generation)
// and ephemeral messages shown to one member of a group.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "grammy";
import { EPHEMERAL_UNSUPPORTED, type BotApiServer } from "./bot-api.js";
import { alice, bob, failure, GROUP, startTestBed } from "./bot-api-testing.js";

let server: BotApiServer;
let api: Api;

beforeEach(async () => {
  ({ server, api } = await startTestBed());
});
afterEach(() => server.close());

describe("drafts and the stop button", () => {
  it("accepts an empty draft (Thinking…), validates can_stop and keep_on_stop, and hides a draft once a message is sent", async () => {
    await api.sendMessageDraft(alice.id, 3, "", { can_stop: true });
    expect(server.visibleDraft(alice.id)).toMatchObject({ draft_id: 3, text: "", can_stop: true });
    const bad = await failure(api.raw.sendMessageDraft({ chat_id: alice.id, draft_id: 3, text: "x", can_stop: "maybe" } as never));
    expect(bad.description).toBe('Bad Request: field "can_stop" must be of type Boolean');
    // Boolean only: a number is refused too (Telegram's own flags are booleans; 1 is a bot's bug).
    const number = await failure(api.raw.sendMessageDraft({ chat_id: alice.id, draft_id: 3, text: "x", can_stop: 1 } as never));
    expect(number.description).toBe('Bad Request: field "can_stop" must be of type Boolean');
    await api.sendMessage(alice.id, "final answer");
    expect(server.visibleDraft(alice.id)).toBeUndefined();
  });

  it("queues stopped_message_generation for the visible draft sent with can_stop, and the draft disappears", async () => {
    await api.sendMessageDraft(alice.id, 7, "Once upon", { can_stop: true });
    expect(server.userStopsDraft({ chat: alice.id })).toBe(true);
    const [update] = server.pendingUpdates();
    expect(update).toMatchObject({ stopped_message_generation: { chat: { id: alice.id, type: "private" }, draft_id: 7 } });
    expect(update!.stopped_message_generation).not.toHaveProperty("message_thread_id");
    expect(server.visibleDraft(alice.id)).toBeUndefined();
    // The bot may still send drafts for it: accepted, marked, not shown again.
    await api.sendMessageDraft(alice.id, 7, "Once upon a time", { can_stop: true });
    expect(server.drafts(alice.id)[0]!.history.at(-1)).toMatchObject({ afterStop: true });
    expect(server.visibleDraft(alice.id)).toBeUndefined();
  });

  it("lets a test stop only a draft that exists, and only once it is stopped no second update comes", async () => {
    expect(() => server.userStopsDraft({ chat: alice.id, draftId: 99 })).toThrow(/no draft 99/);
    expect(() => server.userStopsDraft({ chat: alice.id })).toThrow(/no visible draft/);
    await api.sendMessageDraft(alice.id, 5, "going", { can_stop: true });
    expect(server.userStopsDraft({ chat: alice.id, draftId: 5 })).toBe(true);
    expect(server.userStopsDraft({ chat: alice.id, draftId: 5 })).toBe(false);
    expect(server.pendingUpdates().filter((u) => u.stopped_message_generation)).toHaveLength(1);
  });

  it("keeps a stopped draft with keep_on_stop, and ignores a stop on a draft without the button", async () => {
    await api.sendMessageDraft(alice.id, 1, "no button");
    expect(server.userStopsDraft({ chat: alice.id })).toBe(false);
    expect(server.pendingUpdates()).toEqual([]);
    await api.sendMessageDraft(alice.id, 2, "keep me", { can_stop: true, keep_on_stop: true });
    expect(server.userStopsDraft({ chat: alice.id, draftId: 2 })).toBe(true);
    expect(server.visibleDraft(alice.id)).toMatchObject({ draft_id: 2, text: "keep me", stoppedAt: expect.any(Number) });
  });

  it("names the topic of a stopped draft in a private chat with topics", async () => {
    await server.close();
    ({ server, api } = await startTestBed({ privateChatTopics: true }));
    server.userSends({ chat: alice.id, from: alice, text: "q", threadId: 9 });
    await api.sendMessageDraft(alice.id, 4, "…", { message_thread_id: 9, can_stop: true });
    expect(server.userStopsDraft({ chat: alice.id, threadId: 9 })).toBe(true);
    expect(server.pendingUpdates().at(-1)).toMatchObject({ stopped_message_generation: { message_thread_id: 9, draft_id: 4 } });
  });
});

describe("ephemeral messages", () => {
  it("shows an ephemeral message to its receiver only, with message_id 0 and an ephemeral_message_id", async () => {
    const msg = await api.sendMessage(GROUP, "only for Alice", { ephemeral_message_parameters: { receiver_user_id: alice.id } });
    expect(msg).toMatchObject({ message_id: 0, ephemeral_message_id: 1, receiver_user: { id: alice.id }, text: "only for Alice" });
    await api.sendMessage(GROUP, "for everyone");
    expect(server.visibleTo(GROUP, alice.id).map((m) => m.text)).toEqual(["only for Alice", "for everyone"]);
    expect(server.visibleTo(GROUP, bob.id).map((m) => m.text)).toEqual(["for everyone"]);
    expect(server.messages(GROUP).map((m) => m.text)).toEqual(["for everyone"]);

    await api.editEphemeralMessageText(GROUP, alice.id, 1, "still only for Alice");
    expect(server.ephemeralMessages(GROUP)[0]).toMatchObject({ text: "still only for Alice", edits: 1 });
    const wrongReceiver = await failure(api.editEphemeralMessageText(GROUP, bob.id, 1, "x"));
    expect(wrongReceiver.description).toBe("Bad Request: message to edit not found");
    await api.deleteEphemeralMessage(GROUP, alice.id, 1);
    expect(server.visibleTo(GROUP, alice.id).map((m) => m.text)).toEqual(["for everyone"]);
  });

  it("refuses ephemeral messages outside groups, to non-members, and with a callback query that is not the receiver's", async () => {
    const params = (receiver: number, extra = {}) => ({ ephemeral_message_parameters: { receiver_user_id: receiver, ...extra } });
    expect((await failure(api.sendMessage(alice.id, "x", params(alice.id)))).description).toBe(`Bad Request: ${EPHEMERAL_UNSUPPORTED}`);
    server.addUser({ id: 4242, first_name: "Stranger" });
    expect((await failure(api.sendMessage(GROUP, "x", params(4242)))).description).toBe("Bad Request: USER_NOT_PARTICIPANT");
    // Whoever writes in the group is a member; the answer may reply to their message.
    const question = server.userSends({ chat: GROUP, from: 4242, text: "/usage" });
    const answer = await api.sendMessage(GROUP, "only you see this", { ...params(4242), reply_parameters: { message_id: question.message_id } });
    expect(answer).toMatchObject({ message_id: 0, reply_to_message: { message_id: question.message_id } });

    const panel = await api.sendMessage(GROUP, "panel", { reply_markup: { inline_keyboard: [[{ text: "Go", callback_data: "go" }]] } });
    const query = server.userPresses({ chat: GROUP, from: alice, messageId: panel.message_id, data: "go" });
    const notReceiver = await failure(api.sendMessage(GROUP, "x", params(bob.id, { callback_query_id: query })));
    expect(notReceiver.description).toMatch(/receiver must be the user who pressed/);
    const unknown = await failure(api.sendMessage(GROUP, "x", params(alice.id, { callback_query_id: "nope" })));
    expect(unknown.description).toMatch(/query ID is invalid/);
    const replaceAlone = await failure(api.sendMessage(GROUP, "x", params(alice.id, { replace_callback_query_message: true })));
    expect(replaceAlone.description).toBe("Bad Request: replace_callback_query_message needs callback_query_id");

    // In place of the pressed message, for the presser only.
    await api.sendMessage(GROUP, "your settings", params(alice.id, { callback_query_id: query, replace_callback_query_message: true }));
    expect(server.visibleTo(GROUP, alice.id).map((m) => m.text)).toEqual(["/usage", "your settings"]);
    expect(server.visibleTo(GROUP, bob.id).map((m) => m.text)).toEqual(["/usage", "panel"]);
    await api.answerCallbackQuery(query);
    const answered = await failure(api.sendMessage(GROUP, "x", params(alice.id, { callback_query_id: query })));
    expect(answered.description).toMatch(/query ID is invalid/);
  });

  it("lets the receiver press buttons of an ephemeral message, and counts ephemeral sends against flood control", async () => {
    await api.sendMessage(GROUP, "choose", {
      ephemeral_message_parameters: { receiver_user_id: alice.id },
      reply_markup: { inline_keyboard: [[{ text: "A", callback_data: "a" }]] },
    });
    const query = server.userPresses({ chat: GROUP, from: alice, ephemeralMessageId: 1, data: "a" });
    expect(server.pendingUpdates().at(-1)).toMatchObject({ callback_query: { id: query, message: { message_id: 0, ephemeral_message_id: 1 } } });
    const replace = await failure(
      api.sendMessage(GROUP, "x", { ephemeral_message_parameters: { receiver_user_id: alice.id, callback_query_id: query, replace_callback_query_message: true } }),
    );
    expect(replace.description).toMatch(/edit it instead/);
    expect(() => server.userPresses({ chat: GROUP, from: bob, ephemeralMessageId: 1, data: "a" })).toThrow(/sees no ephemeral message/);
    server.limits.perChat = { max: 2, windowMs: 60_000 };
    await api.sendMessage(GROUP, "one more", { ephemeral_message_parameters: { receiver_user_id: bob.id } });
    expect((await failure(api.sendMessage(GROUP, "x", { ephemeral_message_parameters: { receiver_user_id: bob.id } }))).error_code).toBe(429);
  });

  it("never sends an ephemeral message without the message it replies to (allow_sending_without_reply is ignored)", async () => {
    const params = { ephemeral_message_parameters: { receiver_user_id: alice.id }, reply_parameters: { message_id: 999_999, allow_sending_without_reply: true } };
    expect((await failure(api.sendMessage(GROUP, "x", params))).description).toBe("Bad Request: message to be replied not found");
    expect(server.ephemeralMessages(GROUP)).toEqual([]);
    const plain = await api.sendMessage(GROUP, "x", { reply_parameters: params.reply_parameters });
    expect(plain.message_id).toBeGreaterThan(0);
  });

  it("refuses every ephemeral message when the server does not support them (the bot's fallback)", async () => {
    server.ephemeralSupported = false;
    const err = await failure(api.sendMessage(GROUP, "x", { ephemeral_message_parameters: { receiver_user_id: alice.id } }));
    expect(err).toMatchObject({ error_code: 400, description: `Bad Request: ${EPHEMERAL_UNSUPPORTED}` });
    expect(server.ephemeralMessages(GROUP)).toEqual([]);
    await api.sendMessage(GROUP, "plain reply");
  });
});
