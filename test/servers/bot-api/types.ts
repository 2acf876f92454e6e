// The data model of the fake Bot API, as tests see it: users and chats, stored messages with their edit history,
// drafts, files, flood-control settings and the call log. Plain interfaces only (every concern file shares them, so
// they live apart from the code to keep the imports one-way).
import type { MessageEntity } from "grammy/types";

export type ChatType = "private" | "group" | "supergroup";

export interface FakeChat {
  id: number;
  type: ChatType;
  /** Groups and supergroups. */
  title?: string;
  /** Private chats. */
  first_name?: string;
  last_name?: string;
  username?: string;
  is_forum?: boolean;
}

export interface FakeUser {
  id: number;
  first_name: string;
  is_bot?: boolean;
  last_name?: string;
  username?: string;
  language_code?: string;
}

/** The bot's own user: always a bot, always with a username. */
export type BotUser = FakeUser & { is_bot: true; username: string };

export type ChatMemberStatus = "creator" | "administrator" | "member" | "left" | "kicked";

/** A sliding window: at most `max` counted requests in any `windowMs` milliseconds. */
export interface RateWindow {
  max: number;
  windowMs: number;
}

export interface FloodLimits {
  /** All counted requests of the bot. Default 30 per 1000 ms. */
  global: RateWindow;
  /** Per group/supergroup chat. Default 20 per 60 000 ms. */
  perGroup: RateWindow;
  /** Per chat (any type), messages and edits. Default 3 per 1000 ms. */
  perChat: RateWindow;
  /** Per private chat, sendMessageDraft only (not part of perChat). Default 5 per 1000 ms. */
  perChatDrafts: RateWindow;
}

export interface BotApiStats {
  /** Every 429 answered. */
  tooManyRequests: number;
  /** 429s per chat id. */
  tooManyRequestsByChat: Map<number, number>;
  /** Requests counted by flood control (accepted). */
  counted: number;
}

export interface BotApiServerOptions {
  /** Default `123456:TEST-token`. */
  token?: string;
  /** Overrides for the bot's own user (default id 123456, first_name "Test AI Bot", username "test_ai_bot"). */
  botUser?: Partial<FakeUser>;
  /** `false` makes sendMessageDraft answer 404 like a server older than Bot API 9.3. Default true. */
  draftsSupported?: boolean;
  /** Flood-control windows; `{ max: Infinity }` switches one off. */
  limits?: Partial<FloodLimits>;
  /** Delay before every answer (simulated network round trip). Default 0. */
  latencyMs?: number;
}

export interface FileInfo {
  file_id: string;
  file_unique_id: string;
  file_size: number;
  file_path: string;
}

export interface PhotoSize {
  file_id: string;
  file_unique_id: string;
  width: number;
  height: number;
  file_size: number;
}

export interface DocumentInfo {
  file_id: string;
  file_unique_id: string;
  file_name?: string;
  mime_type?: string;
  file_size: number;
}

export interface MessageVersion {
  at: number;
  text?: string;
  entities?: MessageEntity[];
  caption?: string;
  caption_entities?: MessageEntity[];
  reply_markup?: unknown;
}

/** The server's record of a message: its current content, and every edit applied to it. */
export interface StoredMessage {
  message_id: number;
  chat_id: number;
  from: FakeUser;
  /** Unix seconds. */
  date: number;
  text?: string;
  entities?: MessageEntity[];
  caption?: string;
  caption_entities?: MessageEntity[];
  photo?: PhotoSize[];
  /** When sendPhoto was given a URL instead of bytes (the server does not fetch it). */
  photo_url?: string;
  document?: DocumentInfo;
  reply_markup?: unknown;
  reply_to_message_id?: number;
  message_thread_id?: number;
  /** Id of the chat the message was sent on behalf of (anonymous admins: the group itself). */
  sender_chat_id?: number;
  /** Number of successful edits (editMessageText, editMessageCaption, editMessageReplyMarkup). */
  edits: number;
  edit_date?: number;
  /** The content set by each edit, oldest first. */
  editHistory: MessageVersion[];
}

export interface DraftUpdate {
  at: number;
  draft_id: number;
  text: string;
  entities?: MessageEntity[];
  message_thread_id?: number;
}

export interface DraftState {
  draft_id: number;
  /** Latest text of this draft. */
  text: string;
  entities?: MessageEntity[];
  /** Every sendMessageDraft accepted for this draft_id, oldest first. */
  history: DraftUpdate[];
}

export interface ApiErrorBody {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

export interface Call {
  /** Method name as sent by the client. */
  method: string;
  /** Parameters after decoding (multipart/urlencoded values coerced to numbers/booleans/objects where known). */
  params: Record<string, unknown>;
  /** Date.now() when the request arrived. */
  at: number;
  /** HTTP status of the answer. */
  status: number;
  result?: unknown;
  error?: ApiErrorBody;
}

export interface WaitForOptions {
  timeoutMs?: number;
  /** Only consider calls with an index >= after (use `server.calls.length` taken before acting). */
  after?: number;
}

export interface UserSendsOptions {
  chat: FakeChat | number;
  from: FakeUser | number;
  text?: string;
  /** Given entities replace the automatic bot_command/mention detection. */
  entities?: MessageEntity[];
  /** message_id in the same chat. */
  replyTo?: number;
  threadId?: number;
  /** Image bytes: stored once per size (90, 320, 800 px and original side) with the same bytes. */
  photo?: Uint8Array;
  photoSizes?: Array<{ bytes: Uint8Array; width: number; height: number }>;
  document?: { bytes: Uint8Array; file_name: string; mime_type: string };
  caption?: string;
  caption_entities?: MessageEntity[];
  /**
   * The chat the message is sent on behalf of. An anonymous group admin writes as the group itself: pass the group
   * (and GROUP_ANONYMOUS_BOT as `from`, as Telegram does).
   */
  senderChat?: FakeChat | number;
}
