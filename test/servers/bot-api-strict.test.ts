// The test Bot API server refuses what Telegram refuses: threads that do not exist, chats the bot is not in or was
// blocked in, and every chat-changing request beyond the flood limits; channels and discussion groups as Telegram
// shows them to a bot.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Api } from "grammy";
import { CHANNEL_BOT, TELEGRAM_SERVICE_USER, type BotApiServer } from "./bot-api.js";
import { alice, bob, failure, GROUP, startTestBed } from "./bot-api-testing.js";

const FORUM = -100900;
let server: BotApiServer;
let api: Api;

beforeEach(async () => {
  ({ server, api } = await startTestBed());
  server.addChat({ id: FORUM, type: "supergroup", title: "Forum", is_forum: true });
  server.setChatMember(FORUM, alice, "member");
});
afterEach(() => server.close());

describe("message_thread_id", () => {
  it("accepts a created topic, refuses unknown ones and General's 1, and keeps closed topics for admins", async () => {
    const topic = server.createTopic(FORUM, { name: "Ideas", creator: alice });
    const opening = server.message(FORUM, topic.message_thread_id)!;
    expect(opening.forum_topic_created).toEqual({ name: "Ideas", icon_color: expect.any(Number) });

    const sent = await api.sendMessage(FORUM, "in the topic", { message_thread_id: topic.message_thread_id });
    expect(sent).toMatchObject({ message_thread_id: topic.message_thread_id, is_topic_message: true });
    // A message in a topic that replies to nothing replies to the topic's opening message.
    expect(sent.reply_to_message).toMatchObject({ message_id: topic.message_thread_id, forum_topic_created: { name: "Ideas" } });

    for (const thread of [999, 1]) {
      const err = await failure(api.sendMessage(FORUM, "x", { message_thread_id: thread }));
      expect(err.description).toBe("Bad Request: message thread not found");
    }
    const general = await api.sendMessage(FORUM, "in General");
    expect(general.message_thread_id).toBeUndefined();

    server.topics(FORUM)[0]!.closed = true;
    const closed = await failure(api.sendMessage(FORUM, "x", { message_thread_id: topic.message_thread_id }));
    expect(closed.description).toBe("Bad Request: TOPIC_CLOSED");
    server.setChatMember(FORUM, server.botUser, "administrator");
    await api.sendMessage(FORUM, "admins may", { message_thread_id: topic.message_thread_id });

    const action = await failure(api.sendChatAction(FORUM, "typing", { message_thread_id: 4242 }));
    expect(action.description).toBe("Bad Request: message thread not found");
  });

  it("refuses threads where the chat has none: private chats without topic mode, basic groups, plain supergroups", async () => {
    server.addChat({ id: -77, type: "group", title: "Basic" });
    const question = server.userSends({ chat: GROUP, from: alice, text: "root" });
    for (const [chat, thread] of [[alice.id, 5], [-77, 1], [GROUP, question.message_id]] as const) {
      const err = await failure(api.sendMessage(chat, "x", { message_thread_id: thread }));
      expect(err.description).toBe("Bad Request: message thread not found");
    }
    const draft = await failure(api.sendMessageDraft(alice.id, 1, "x", { message_thread_id: 5 }));
    expect(draft.description).toBe("Bad Request: message thread not found");
    // A reply in a supergroup belongs to the root's reply chain, which is not a topic.
    const reply = server.userSends({ chat: GROUP, from: bob, text: "re", replyTo: question.message_id });
    expect(reply).toMatchObject({ message_thread_id: question.message_id });
    expect(reply.is_topic_message).toBeUndefined();
  });

  it("opens a topic on a user's first message in it and keeps replies in their topic", async () => {
    const first = server.userSends({ chat: FORUM, from: alice, text: "hello", threadId: 40 });
    expect(first).toMatchObject({ message_thread_id: 40, is_topic_message: true, reply_to_message: { message_id: 40 } });
    const answer = await api.sendMessage(FORUM, "hi", { reply_parameters: { message_id: first.message_id } });
    expect(answer).toMatchObject({ message_thread_id: 40, reply_to_message: { message_id: first.message_id } });
    const created = await api.createForumTopic(FORUM, "Bot topic").catch((e: Error) => e);
    expect(created).toMatchObject({ description: "Bad Request: not enough rights to create a topic" });
    server.setChatMember(FORUM, server.botUser, "administrator");
    const topic = await api.createForumTopic(FORUM, "Bot topic");
    await api.sendMessage(FORUM, "there", { message_thread_id: topic.message_thread_id });
    await api.deleteForumTopic(FORUM, topic.message_thread_id);
    const gone = await failure(api.sendMessage(FORUM, "x", { message_thread_id: topic.message_thread_id }));
    expect(gone.description).toBe("Bad Request: message thread not found");
  });

  it("has topics in private chats when the bot has topic mode (Bot API 9.3)", async () => {
    await server.close();
    ({ server, api } = await startTestBed({ privateChatTopics: true }));
    expect(await api.getMe()).toMatchObject({ has_topics_enabled: true });
    const msg = server.userSends({ chat: alice.id, from: alice, text: "q", threadId: 3 });
    expect(msg).toMatchObject({ message_thread_id: 3, is_topic_message: true });
    await api.sendMessageDraft(alice.id, 1, "thinking", { message_thread_id: 3 });
    await api.sendMessage(alice.id, "a", { message_thread_id: 3 });
    const err = await failure(api.sendMessage(alice.id, "x", { message_thread_id: 4 }));
    expect(err.description).toBe("Bad Request: message thread not found");
  });
});

describe("membership", () => {
  it("answers 403 where the bot is not a member, was kicked, or was blocked, and queues my_chat_member", async () => {
    server.removeBot(GROUP, alice);
    const left = await failure(api.sendMessage(GROUP, "x"));
    expect(left.error_code).toBe(403);
    expect(left.description).toBe("Forbidden: bot is not a member of the supergroup chat");
    server.kickBot(GROUP);
    expect((await failure(api.sendChatAction(GROUP, "typing"))).description).toBe("Forbidden: bot was kicked from the supergroup chat");
    server.addChat({ id: -78, type: "group", title: "Basic" });
    server.removeBot(-78);
    expect((await failure(api.sendMessage(-78, "x"))).description).toBe("Forbidden: bot is not a member of the group chat");

    // The bot does not see messages where it is not a member.
    const before = server.pendingUpdates().length;
    server.userSends({ chat: GROUP, from: alice, text: "anyone?" });
    expect(server.pendingUpdates().slice(before).some((u) => "message" in u)).toBe(false);

    server.userBlocksBot(alice);
    for (const call of [api.sendMessage(alice.id, "x"), api.sendMessageDraft(alice.id, 1, "x"), api.sendChatAction(alice.id, "typing")]) {
      const err = await failure(call);
      expect(err).toMatchObject({ error_code: 403, description: "Forbidden: bot was blocked by the user" });
    }
    const updates = server.pendingUpdates().filter((u) => "my_chat_member" in u);
    expect(updates.map((u) => (u.my_chat_member as { new_chat_member: { status: string } }).new_chat_member.status)).toEqual([
      "left",
      "kicked",
      "left",
      "kicked",
    ]);
    expect(await api.getChatMember(alice.id, server.botUser.id)).toMatchObject({ status: "kicked" });
    server.userUnblocksBot(alice);
    await api.sendMessage(alice.id, "welcome back");
  });

  it("makes the bot a member of groups a test adds, so it may write there", async () => {
    expect(await api.getChatMember(GROUP, server.botUser.id)).toMatchObject({ status: "member" });
    await api.sendMessage(GROUP, "hello");
  });
});

describe("channels", () => {
  const CHANNEL = -100777;
  const DISCUSSION = -100778;

  beforeEach(() => {
    server.addChat({ id: CHANNEL, type: "channel", title: "News", username: "news" });
    server.addChat({ id: DISCUSSION, type: "supergroup", title: "News chat" });
    server.linkDiscussionGroup(CHANNEL, DISCUSSION);
  });

  it("sends channel_post and copies each post into the discussion group as an automatic forward", async () => {
    const { post, forward } = server.channelPost({ channel: CHANNEL, text: "Big news" });
    expect(post.from).toBeUndefined();
    expect(post).toMatchObject({ chat: { id: CHANNEL, type: "channel" }, sender_chat: { id: CHANNEL }, text: "Big news" });
    expect(forward).toMatchObject({
      chat: { id: DISCUSSION },
      from: { id: TELEGRAM_SERVICE_USER.id },
      sender_chat: { id: CHANNEL, type: "channel" },
      is_automatic_forward: true,
      forward_origin: { type: "channel", chat: { id: CHANNEL }, message_id: post.message_id },
    });
    const types = server.pendingUpdates().map((u) => Object.keys(u).find((k) => k !== "update_id"));
    expect(types).toEqual(["channel_post", "message"]);
    expect(await api.getChat(CHANNEL)).toMatchObject({ linked_chat_id: DISCUSSION });

    // Comments are replies to the copy, in its thread; the bot may answer in that thread.
    const comment = server.userSends({ chat: DISCUSSION, from: alice, text: "wow", replyTo: forward!.message_id });
    expect(comment.message_thread_id).toBe(forward!.message_id);
    await api.sendMessage(DISCUSSION, "indeed", { message_thread_id: forward!.message_id });

    // The bot's own post is copied too.
    await api.sendMessage(CHANNEL, "From the bot");
    expect(server.messages(DISCUSSION).at(-1)).toMatchObject({ text: "From the bot", is_automatic_forward: true });
  });

  it("shows people posting as a channel with Channel_Bot and the channel as sender_chat; needs admin rights to post", async () => {
    const msg = server.userSends({ chat: DISCUSSION, senderChat: CHANNEL, text: "as the channel" });
    expect(msg).toMatchObject({ from: { id: CHANNEL_BOT.id, username: "Channel_Bot" }, sender_chat: { id: CHANNEL, type: "channel" } });
    server.setChatMember(CHANNEL, server.botUser, "member");
    const err = await failure(api.sendMessage(CHANNEL, "x"));
    expect(err.description).toBe("Bad Request: need administrator rights in the channel chat");
  });
});

describe("flood control counts every request that changes a chat", () => {
  it("counts reply-markup edits, deletions and media, not chat actions", async () => {
    const kb = (data: string) => ({ inline_keyboard: [[{ text: data, callback_data: data }]] });
    const sent = await api.sendMessage(alice.id, "pick", { reply_markup: kb("a") });
    await api.editMessageReplyMarkup(alice.id, sent.message_id, { reply_markup: kb("b") });
    // Removing the keyboard is an edit too.
    const removed = await api.editMessageReplyMarkup(alice.id, sent.message_id);
    expect(removed).not.toHaveProperty("reply_markup");
    const limited = await failure(api.editMessageReplyMarkup(alice.id, sent.message_id, { reply_markup: kb("c") }));
    expect(limited.error_code).toBe(429);
    expect((await failure(api.deleteMessage(alice.id, sent.message_id))).error_code).toBe(429);
    await api.sendChatAction(alice.id, "typing");
    expect(server.stats.counted).toBe(3);
  });
});
