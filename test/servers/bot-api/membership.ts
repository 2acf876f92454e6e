// Whether the bot may write to a chat, with Telegram's answers when it may not: a user who blocked the bot
// ("Forbidden: bot was blocked by the user"), a group or channel the bot is not in ("Forbidden: bot is not a member
// of the supergroup chat") or was removed from ("Forbidden: bot was kicked from the group chat"), a channel where it
// is no administrator ("Bad Request: need administrator rights in the channel chat"). Checked by every method that
// sends, edits or deletes, by drafts and by chat actions. Also the test's side of it: removing the bot from a chat
// or blocking it queues the my_chat_member update Telegram sends.
import { chatMember, type Chats, type ChatState } from "./chats.js";
import { stripUndefined } from "./json.js";
import { ApiError, badRequest, type Params } from "./params.js";
import type { BotUser, ChatMemberStatus, FakeUser } from "./types.js";
import type { UpdateQueue } from "./updates.js";

const kindOf = (state: ChatState) => (state.chat.type === "supergroup" ? "supergroup" : state.chat.type === "channel" ? "channel" : "group");

/** Throws Telegram's refusal when the bot may not write to the chat. */
export function assertBotCanWrite(chats: Chats, state: ChatState): void {
  const status = chats.botStatus(state);
  if (state.chat.type === "private") {
    if (status === "kicked") throw new ApiError(403, "Forbidden: bot was blocked by the user");
    return;
  }
  if (status === "kicked") throw new ApiError(403, `Forbidden: bot was kicked from the ${kindOf(state)} chat`);
  if (status === "left") throw new ApiError(403, `Forbidden: bot is not a member of the ${kindOf(state)} chat`);
  if (state.chat.type === "channel" && status !== "administrator" && status !== "creator") {
    throw badRequest("need administrator rights in the channel chat");
  }
}

/** The chat named by chat_id, when the bot may write to it (Telegram's refusal otherwise). */
export function writableChat(chats: Chats, p: Params): ChatState {
  const state = chats.fromParam(p);
  assertBotCanWrite(chats, state);
  return state;
}

/** The test's side of membership: changes of the bot's own status, each announced as Telegram does. */
export class Membership {
  constructor(
    private readonly chats: Chats,
    private readonly botUser: BotUser,
    private readonly updates: UpdateQueue,
  ) {}

  /** Sets the bot's status in a group or channel and queues my_chat_member (`by`: who changed it). */
  setBotStatus(chatId: number, status: ChatMemberStatus, by?: FakeUser | number): void {
    const state = this.chats.requireState(chatId);
    if (state.chat.type === "private") throw new Error("in a private chat the user blocks the bot: use userBlocksBot");
    const old = this.chats.botStatus(state);
    state.members.set(this.botUser.id, { user: this.botUser, status });
    const from = by === undefined ? this.firstAdmin(state) : this.chats.userOf(by);
    this.announce(state, from, old, status);
  }

  /** A user blocks (or unblocks) the bot: sends to them fail with 403, and my_chat_member is queued. */
  setBlocked(user: FakeUser | number, blocked: boolean): void {
    const u = this.chats.userOf(user);
    const state = this.chats.state(u.id);
    const old = state ? this.chats.botStatus(state) : "member";
    if (blocked) this.chats.blockedBy.add(u.id);
    else this.chats.blockedBy.delete(u.id);
    if (state) this.announce(state, u, old, blocked ? "kicked" : "member");
  }

  private firstAdmin(state: ChatState): FakeUser {
    for (const m of state.members.values()) if (m.status === "creator" && m.user.id !== this.botUser.id) return m.user;
    for (const m of state.members.values()) if (m.status === "administrator" && m.user.id !== this.botUser.id) return m.user;
    return { id: 1, first_name: "Admin" };
  }

  private announce(state: ChatState, from: FakeUser, oldStatus: ChatMemberStatus, newStatus: ChatMemberStatus): void {
    if (oldStatus === newStatus) return;
    const member = (status: ChatMemberStatus) => chatMember(this.botUser, status);
    this.updates.push({
      my_chat_member: {
        chat: this.chats.info(state.chat),
        from: stripUndefined({ ...from, is_bot: from.is_bot ?? false }),
        date: Math.floor(Date.now() / 1000),
        old_chat_member: member(oldStatus),
        new_chat_member: member(newStatus),
      },
    });
  }
}
