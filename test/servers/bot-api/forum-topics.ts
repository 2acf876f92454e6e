// Forum topics and message threads, as Telegram checks them. In a forum supergroup (and a private chat when the bot
// has topic mode, Bot API 9.3) a topic's message_thread_id is the id of its opening `forum_topic_created` message;
// messages in the General topic carry no thread id (General cannot be named: 1 is "message thread not found" like
// any unknown id), messages in a topic that reply to nothing reply to its opening message, and a reply stays in the
// replied message's topic. In other supergroups the only threads a bot can post to are the comment threads under
// channel posts (automatic forwards); basic groups, channels and private chats without topic mode have no threads.
// A closed topic takes only administrators' messages ("TOPIC_CLOSED"). Also the forum-topic methods.
import type { Chats, ChatState } from "./chats.js";
import type { Methods } from "./dispatch.js";
import type { FloodControl } from "./flood-limits.js";
import { writableChat } from "./membership.js";
import type { Messages } from "./messages.js";
import { badRequest, type Params } from "./params.js";
import type { BotUser, FakeUser, ForumTopicState, StoredMessage } from "./types.js";

/** The colours Telegram allows for a topic icon. */
const ICON_COLORS = [0x6fb9f0, 0xffd67e, 0xcb86db, 0x8eee98, 0xff93b2, 0xfb6f5f];

/** Whether the chat has topics: a forum supergroup, or a private chat while the bot has topic mode. */
export function hasTopics(chats: Chats, state: ChatState): boolean {
  return (state.chat.type === "supergroup" && state.chat.is_forum === true) || (state.chat.type === "private" && chats.privateTopics);
}

/**
 * The thread a bot's message goes to: `requested` checked as Telegram does, or (none requested) the topic of the
 * message it replies to. Throws "message thread not found" / "TOPIC_CLOSED".
 */
export function botThread(chats: Chats, botUser: BotUser, state: ChatState, requested: number | undefined, replyTo: StoredMessage | undefined): number | undefined {
  if (requested === undefined || requested === 0) {
    if (replyTo?.message_thread_id !== undefined && (hasTopics(chats, state) || state.chat.type === "supergroup")) return replyTo.message_thread_id;
    return undefined;
  }
  if (hasTopics(chats, state)) {
    const topic = state.topics.get(requested);
    if (!topic) throw badRequest("message thread not found");
    if (topic.closed && !chats.isAdmin(state, botUser.id)) throw badRequest("TOPIC_CLOSED");
    return requested;
  }
  if (state.chat.type === "supergroup" && state.messages.get(requested)?.is_automatic_forward) return requested;
  throw badRequest("message thread not found");
}

export class ForumTopics {
  constructor(
    private readonly chats: Chats,
    private readonly messages: Messages,
    private readonly flood: FloodControl,
    private readonly botUser: BotUser,
  ) {}

  /**
   * Opens a topic as `creator` does: a `forum_topic_created` message whose id becomes the topic's id (the given id
   * when free; an existing message with that id is taken as the opening one). Returns the topic.
   */
  open(chatId: number, opts: { name?: string; creator?: FakeUser | number; id?: number; iconColor?: number } = {}): ForumTopicState {
    const state = this.chats.requireState(chatId);
    if (!hasTopics(this.chats, state)) {
      throw new Error(`chat ${chatId} has no topics (a forum supergroup, or a private chat with the server's privateChatTopics)`);
    }
    if (opts.id !== undefined) {
      const existing = state.topics.get(opts.id);
      if (existing) return existing;
    }
    const name = opts.name ?? `Topic ${opts.id ?? state.nextMessageId}`;
    const icon_color = opts.iconColor ?? ICON_COLORS[0]!;
    const creator = opts.creator === undefined ? this.botUser : this.chats.userOf(opts.creator);
    let id = opts.id;
    let hasOpeningMessage = true;
    if (id !== undefined && state.messages.has(id)) {
      hasOpeningMessage = false;
    } else {
      const msg = this.messages.create(state, creator, { messageId: id });
      msg.forum_topic_created = { name, icon_color };
      id = msg.message_id;
    }
    const topic: ForumTopicState = { message_thread_id: id, name, icon_color, closed: false, hasOpeningMessage };
    state.topics.set(topic.message_thread_id, topic);
    // The opening message belongs to its own topic.
    if (hasOpeningMessage) state.messages.get(topic.message_thread_id)!.message_thread_id = topic.message_thread_id;
    return topic;
  }

  /**
   * The thread of a user's message: a forum topic (opened on first use), the topic or reply chain of the message it
   * replies to, or none. A thread where the chat has none is a mistake in the test.
   */
  userThread(state: ChatState, threadId: number | undefined, replyTo: StoredMessage | undefined, from: FakeUser): number | undefined {
    if (hasTopics(this.chats, state)) {
      if (threadId !== undefined) return this.open(state.chat.id, { id: threadId, creator: from }).message_thread_id;
      return replyTo?.message_thread_id;
    }
    if (state.chat.type === "supergroup") {
      if (threadId !== undefined) {
        if (!state.messages.has(threadId)) throw new Error(`userSends: thread ${threadId} has no root message in chat ${state.chat.id}`);
        return threadId;
      }
      // Every reply in a supergroup belongs to the reply chain of its root message (is_topic_message stays unset).
      return replyTo ? (replyTo.message_thread_id ?? replyTo.message_id) : undefined;
    }
    if (threadId !== undefined) throw new Error(`userSends: chat ${state.chat.id} (${state.chat.type}) has no threads`);
    return undefined;
  }

  methods(): Methods {
    const topicChat = (p: Params, action: "create" | "manage"): ChatState => {
      const state = writableChat(this.chats, p);
      if (!hasTopics(this.chats, state)) throw badRequest("the chat is not a forum");
      if (state.chat.type === "supergroup" && !this.chats.isAdmin(state, this.botUser.id)) {
        throw badRequest(action === "create" ? "not enough rights to create a topic" : "not enough rights to manage topics");
      }
      return state;
    };
    const topicOf = (p: Params, state: ChatState): ForumTopicState => {
      const id = p.int("message_thread_id");
      if (id === undefined) throw badRequest("message thread identifier is not specified");
      const topic = state.topics.get(id);
      if (!topic) throw badRequest("message thread not found");
      return topic;
    };
    const nameFrom = (p: Params, required: boolean): string | undefined => {
      const name = p.str("name");
      if (name === undefined && !required) return undefined;
      if (name === undefined || name.trim() === "" || name.length > 128) throw badRequest("TOPIC_TITLE_EMPTY");
      return name;
    };
    return {
      createForumTopic: (p) => {
        const state = topicChat(p, "create");
        const name = nameFrom(p, true)!;
        const color = p.int("icon_color");
        if (color !== undefined && !ICON_COLORS.includes(color)) throw badRequest("TOPIC_ICON_COLOR_INVALID");
        p.str("icon_custom_emoji_id");
        this.flood.gate(state.chat, "message");
        const topic = this.open(state.chat.id, { name, iconColor: color });
        return { message_thread_id: topic.message_thread_id, name: topic.name, icon_color: topic.icon_color };
      },
      editForumTopic: (p) => {
        const state = topicChat(p, "manage");
        const topic = topicOf(p, state);
        const name = nameFrom(p, false);
        p.str("icon_custom_emoji_id");
        if (name === undefined || name === topic.name) throw badRequest("TOPIC_NOT_MODIFIED");
        topic.name = name;
        return true;
      },
      closeForumTopic: (p) => {
        const topic = topicOf(p, topicChat(p, "manage"));
        if (topic.closed) throw badRequest("TOPIC_NOT_MODIFIED");
        topic.closed = true;
        return true;
      },
      reopenForumTopic: (p) => {
        const topic = topicOf(p, topicChat(p, "manage"));
        if (!topic.closed) throw badRequest("TOPIC_NOT_MODIFIED");
        topic.closed = false;
        return true;
      },
      deleteForumTopic: (p) => {
        const state = topicChat(p, "manage");
        const topic = topicOf(p, state);
        state.topics.delete(topic.message_thread_id);
        for (const [id, msg] of state.messages) if (msg.message_thread_id === topic.message_thread_id) state.messages.delete(id);
        return true;
      },
    };
  }
}
