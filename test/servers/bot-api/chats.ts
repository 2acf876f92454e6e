// Chats, users and members, as the Bot API shows them: a chat is found by id or @username ("chat not found"
// otherwise), a private chat's id is its user's id, and getChatMember/getChatAdministrators answer from the members
// a test registered (a known user who is no member has "left"; an unknown one is "user not found"). The bot is a
// member of every group a test adds (an administrator of every channel) unless the test says otherwise, and the
// users who blocked it are kept here; membership.ts says what that allows.
import type { Methods } from "./dispatch.js";
import { stripUndefined, type Json } from "./json.js";
import { badRequest, type Params } from "./params.js";
import type { BotUser, ChatMemberStatus, DraftState, FakeChat, FakeUser, ForumTopicState, StoredMessage } from "./types.js";

/** The user Telegram puts in `from` of messages sent by anonymous group admins (sender_chat is then the group). */
export const GROUP_ANONYMOUS_BOT: FakeUser = { id: 1087968824, is_bot: true, first_name: "Group", username: "GroupAnonymousBot" };

/** The user Telegram puts in `from` of messages people send on behalf of a channel (sender_chat is the channel). */
export const CHANNEL_BOT: FakeUser = { id: 136817688, is_bot: true, first_name: "Channel", username: "Channel_Bot" };

/** The sender of channel posts copied into a discussion group (automatic forwards). */
export const TELEGRAM_SERVICE_USER: FakeUser = { id: 777000, is_bot: false, first_name: "Telegram" };

/** Everything the server keeps about one chat. */
export interface ChatState {
  chat: FakeChat;
  nextMessageId: number;
  messages: Map<number, StoredMessage>;
  drafts: Map<number, DraftState>;
  members: Map<number, { user: FakeUser; status: ChatMemberStatus }>;
  /** Forum topics by message_thread_id (forum supergroups, private chats with topic mode). */
  topics: Map<number, ForumTopicState>;
  /** Ephemeral messages by ephemeral_message_id (each visible to its receiver only). */
  ephemeral: Map<number, StoredMessage>;
  nextEphemeralId: number;
}

export class Chats {
  private readonly chats = new Map<number, ChatState>();
  private readonly users = new Map<number, FakeUser>();
  /** Users who blocked the bot. */
  readonly blockedBy = new Set<number>();
  /** The bot has topic mode in private chats (getMe has_topics_enabled). */
  privateTopics = false;

  constructor(private readonly botUser: BotUser) {
    this.users.set(botUser.id, botUser);
  }

  /** Every registered chat. */
  all(): ChatState[] {
    return [...this.chats.values()];
  }

  addUser(user: FakeUser): FakeUser {
    const stored = { is_bot: false, ...user };
    this.users.set(user.id, stored);
    return stored;
  }

  /** Registers a chat. A private chat's id is its user's id; the user is registered too. */
  addChat(chat: FakeChat): FakeChat {
    const existing = this.chats.get(chat.id);
    if (existing) {
      existing.chat = { ...existing.chat, ...chat };
      return existing.chat;
    }
    const state: ChatState = {
      chat: { ...chat },
      // In a forum, thread id 1 is the General topic, which is never named: no topic may get that id.
      nextMessageId: chat.is_forum ? 2 : 1,
      messages: new Map(),
      drafts: new Map(),
      members: new Map(),
      topics: new Map(),
      ephemeral: new Map(),
      nextEphemeralId: 1,
    };
    this.chats.set(chat.id, state);
    if (chat.type === "private" && !this.users.has(chat.id)) {
      this.addUser({ id: chat.id, first_name: chat.first_name ?? `User ${chat.id}`, last_name: chat.last_name, username: chat.username });
    }
    // A test adds the chats the bot is in: a member of groups, an administrator of channels (bots post only as one).
    if (chat.type !== "private") state.members.set(this.botUser.id, { user: this.botUser, status: chat.type === "channel" ? "administrator" : "member" });
    return chat;
  }

  setChatMember(chatId: number, user: FakeUser | number, status: ChatMemberStatus): void {
    const state = this.requireState(chatId);
    const u = this.userOf(user);
    state.members.set(u.id, { user: u, status });
  }

  state(chatId: number): ChatState | undefined {
    return this.chats.get(chatId);
  }

  /** For the simulation API: an unknown chat is a mistake in the test. */
  requireState(chatId: number): ChatState {
    const state = this.chats.get(chatId);
    if (!state) throw new Error(`chat ${chatId} is not registered (server.addChat first)`);
    return state;
  }

  /** A registered user by id, or the given user (registered on first sight). */
  userOf(user: FakeUser | number): FakeUser {
    return typeof user === "number" ? this.requireUser(user) : this.users.get(user.id) ?? this.addUser(user);
  }

  private requireUser(userId: number): FakeUser {
    const user = this.users.get(userId);
    if (!user) throw new Error(`user ${userId} is not registered (server.addUser first)`);
    return user;
  }

  /** The chat named by the parameter `name` (an id or an @username), as Telegram resolves it. */
  fromParam(p: Params, name = "chat_id"): ChatState {
    const id = p.chatId(name);
    if (id === undefined) throw badRequest(`${name} is empty`);
    if (typeof id === "string") {
      const name = id.slice(1).toLowerCase();
      for (const state of this.chats.values()) if (state.chat.username?.toLowerCase() === name) return state;
      throw badRequest("chat not found");
    }
    const state = this.chats.get(id);
    if (!state) throw badRequest("chat not found");
    return state;
  }

  /** The bot's status in a chat (private chats: "member", or "kicked" once the user blocked it). */
  botStatus(state: ChatState): ChatMemberStatus {
    if (state.chat.type === "private") return this.blockedBy.has(state.chat.id) ? "kicked" : "member";
    return state.members.get(this.botUser.id)?.status ?? "left";
  }

  /** A member of the chat (creator, administrator or member). */
  isMember(state: ChatState, userId: number): boolean {
    if (state.chat.type === "private") return userId === state.chat.id || userId === this.botUser.id;
    const status = state.members.get(userId)?.status;
    return status === "creator" || status === "administrator" || status === "member";
  }

  isAdmin(state: ChatState, userId: number): boolean {
    const status = state.members.get(userId)?.status;
    return status === "creator" || status === "administrator";
  }

  /** The Bot API `Chat` object. */
  info(chat: FakeChat): Json {
    const info: Json = { id: chat.id, type: chat.type };
    if (chat.type === "private") {
      info.first_name = chat.first_name ?? this.users.get(chat.id)?.first_name ?? `User ${chat.id}`;
      if (chat.last_name) info.last_name = chat.last_name;
    } else {
      info.title = chat.title ?? `Chat ${chat.id}`;
    }
    if (chat.username) info.username = chat.username;
    if (chat.is_forum) info.is_forum = true;
    return info;
  }

  /** Links a channel and its discussion group (both must be registered). */
  link(channelId: number, groupId: number): void {
    const channel = this.requireState(channelId).chat;
    const group = this.requireState(groupId).chat;
    if (channel.type !== "channel") throw new Error(`chat ${channelId} is not a channel`);
    if (group.type !== "supergroup") throw new Error(`a discussion group must be a supergroup (chat ${groupId} is a ${group.type})`);
    channel.linked_chat_id = groupId;
    group.linked_chat_id = channelId;
  }

  methods(): Methods {
    return {
      getChat: (p) => {
        const { chat } = this.fromParam(p);
        const linked = chat.linked_chat_id !== undefined ? { linked_chat_id: chat.linked_chat_id } : {};
        return { ...this.info(chat), ...linked, accent_color_id: 0, max_reaction_count: 11, accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false } };
      },

      getChatMember: (p) => {
        const state = this.fromParam(p);
        const userId = p.int("user_id");
        if (userId === undefined) throw badRequest("user_id is empty");
        if (userId === this.botUser.id && state.chat.type === "private") return chatMember(this.botUser, this.botStatus(state));
        const member = state.members.get(userId);
        if (member) return chatMember(member.user, member.status);
        const user = this.users.get(userId);
        if (!user) throw badRequest("user not found");
        if (state.chat.type === "private") return chatMember(user, userId === state.chat.id || userId === this.botUser.id ? "member" : "left");
        return chatMember(user, "left");
      },

      getChatAdministrators: (p) => {
        const state = this.fromParam(p);
        if (state.chat.type === "private") throw badRequest("there are no administrators in the private chat");
        return [...state.members.values()]
          .filter((m) => m.status === "creator" || m.status === "administrator")
          .map((m) => chatMember(m.user, m.status));
      },

    };
  }
}

/** The Bot API `ChatMember` object for a status (administrators with the usual rights). */
export function chatMember(user: FakeUser, status: ChatMemberStatus): Json {
  const u = stripUndefined({ ...user, is_bot: user.is_bot ?? false });
  switch (status) {
    case "creator":
      return { status, user: u, is_anonymous: false };
    case "administrator":
      return {
        status,
        user: u,
        can_be_edited: false,
        is_anonymous: false,
        can_manage_chat: true,
        can_delete_messages: true,
        can_manage_video_chats: true,
        can_restrict_members: true,
        can_promote_members: false,
        can_change_info: true,
        can_invite_users: true,
        can_post_stories: false,
        can_edit_stories: false,
        can_delete_stories: false,
        can_pin_messages: true,
      };
    case "kicked":
      return { status, user: u, until_date: 0 };
    default:
      return { status, user: u };
  }
}
