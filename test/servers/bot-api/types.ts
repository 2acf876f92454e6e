// The data model of the fake Bot API, as tests see it: users and chats (channels and discussion groups too), forum
// topics, stored messages with their edit history (voice notes, audio, round videos, albums, quotes, forwards,
// inline-mode, guest and ephemeral messages), drafts with their stop state, files, the server's options (BotFather
// settings, webhook delivery timing), flood-control settings and the call log. Plain interfaces only (every concern
// file shares them, so they live apart from the code to keep the imports one-way).
import type { MessageEntity } from "grammy/types";

export type ChatType = "private" | "group" | "supergroup" | "channel";

export interface FakeChat {
  id: number;
  type: ChatType;
  /** Groups, supergroups and channels. */
  title?: string;
  /** Private chats. */
  first_name?: string;
  last_name?: string;
  username?: string;
  is_forum?: boolean;
  /**
   * A channel's discussion group, or a discussion group's channel (set both sides with
   * `server.linkDiscussionGroup(channelId, groupId)`).
   */
  linked_chat_id?: number;
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
  /**
   * Per inline message (inline mode and guest answers, edited by inline_message_id), like a group: default 20 per
   * 60 000 ms, on top of perChat's burst window for the same message.
   */
  perInlineMessage: RateWindow;
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
  /**
   * `false` makes every send with `ephemeral_message_parameters` fail with
   * "Bad Request: ephemeral messages are not supported in the chat", so the bot's fallback can be tested. Default true.
   */
  ephemeralSupported?: boolean;
  /** The bot has forum topic mode in private chats (Bot API 9.3: getMe `has_topics_enabled`). Default false. */
  privateChatTopics?: boolean;
  /** Inline mode switched on in BotFather (getMe `supports_inline_queries`). Default true. */
  inlineMode?: boolean;
  /** Inline feedback switched on in BotFather: chosen_inline_result updates are sent. Default true. */
  inlineFeedback?: boolean;
  /** Guest mode switched on (Bot API 10.0: getMe `supports_guest_queries`). Default true. */
  guestMode?: boolean;
  /**
   * Accept `http://` webhook URLs on any port. Telegram requires HTTPS on port 443, 80, 88 or 8443; tests point the
   * webhook at a plain local listener. Whatever this says, updates are only ever POSTed to loopback addresses.
   * Default true (this server exists for tests).
   */
  allowHttpWebhooks?: boolean;
  /** Webhook delivery timing (Telegram's own are longer; tests shorten them). */
  webhookDelivery?: Partial<WebhookDeliveryOptions>;
}

export interface WebhookDeliveryOptions {
  /** A POST not answered within this many ms fails with "Read timeout expired". Default 10 000. */
  timeoutMs: number;
  /** First wait before a failed update is POSTed again; doubled after every failure. Default 1000. */
  retryMinMs: number;
  /** Longest wait between two attempts. Default 60 000. */
  retryMaxMs: number;
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

/** A voice note (Bot API `Voice`). */
export interface VoiceInfo {
  file_id: string;
  file_unique_id: string;
  /** Seconds, as the sender recorded it. */
  duration: number;
  mime_type?: string;
  file_size: number;
}

/** A music or audio file (Bot API `Audio`). */
export interface AudioInfo {
  file_id: string;
  file_unique_id: string;
  duration: number;
  performer?: string;
  title?: string;
  file_name?: string;
  mime_type?: string;
  file_size: number;
}

/** A round video message (Bot API `VideoNote`). */
export interface VideoNoteInfo {
  file_id: string;
  file_unique_id: string;
  /** Diameter in pixels. */
  length: number;
  duration: number;
  file_size: number;
}

/** A forum topic of a supergroup (or of a private chat with topic mode). Its id is its opening message's id. */
export interface ForumTopicState {
  message_thread_id: number;
  name: string;
  icon_color: number;
  closed: boolean;
  /** The opening service message (`forum_topic_created`) exists in the chat under the topic's id. */
  hasOpeningMessage: boolean;
}

/** The part of a replied message a user quoted (Bot API `TextQuote`). */
export interface TextQuote {
  text: string;
  entities?: MessageEntity[];
  /** In UTF-16 code units, within the replied message's text or caption. */
  position: number;
  /** The user chose the quote; false when the client added it. */
  is_manual?: boolean;
}

/** Where a forwarded message came from (Bot API `MessageOrigin`). */
export type ForwardOrigin =
  | { type: "user"; user: FakeUser | number; date?: number }
  | { type: "hidden_user"; sender_user_name: string; date?: number }
  | { type: "chat"; chat: FakeChat | number; author_signature?: string; date?: number }
  | { type: "channel"; chat: FakeChat | number; message_id: number; author_signature?: string; date?: number };

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
  /** Date.now() when it was stored (orders ephemeral messages among the others). */
  sentAt?: number;
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
  voice?: VoiceInfo;
  audio?: AudioInfo;
  video_note?: VideoNoteInfo;
  /** Albums: the messages of one media group share this id. */
  media_group_id?: string;
  /** The quoted part of the replied message. */
  quote?: TextQuote;
  /** Forwarded messages: the Bot API `MessageOrigin`, rendered. */
  forward_origin?: Record<string, unknown>;
  /** A channel post copied into the channel's discussion group. */
  is_automatic_forward?: boolean;
  /** Sent by a user through the bot's inline mode (Message.via_bot is the bot). */
  via_bot?: boolean;
  /** A topic's opening service message. */
  forum_topic_created?: { name: string; icon_color: number };
  /** A guest mode message: the query id the bot answers with answerGuestQuery. */
  guest_query_id?: string;
  /** A guest bot's answer: the user and chat whose message summoned it. */
  guest_bot_caller_user_id?: number;
  guest_bot_caller_chat_id?: number;
  /** Ephemeral messages: shown only to this user. */
  receiver_user_id?: number;
  ephemeral_message_id?: number;
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
  can_stop?: boolean;
  keep_on_stop?: boolean;
  /** Sent after the user had stopped this draft. */
  afterStop?: boolean;
}

export interface DraftState {
  draft_id: number;
  /** Latest text of this draft. */
  text: string;
  entities?: MessageEntity[];
  message_thread_id?: number;
  /** The latest update offered the user a stop button. */
  can_stop?: boolean;
  keep_on_stop?: boolean;
  /** The user still sees it: false once the bot sent a message there, the user stopped it, or 30 s passed. */
  visible: boolean;
  /** When the user pressed stop (Date.now()). */
  stoppedAt?: number;
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
  /** Optional only with senderChat: then Channel_Bot for a channel, GroupAnonymousBot for the group itself. */
  from?: FakeUser | number;
  text?: string;
  /** Given entities replace the automatic bot_command/mention detection. */
  entities?: MessageEntity[];
  /** message_id in the same chat: the bot's or another user's message. */
  replyTo?: number;
  /** With replyTo: the part of the replied text or caption the user quoted (its position is found when omitted). */
  quote?: { text: string; entities?: MessageEntity[]; position?: number; is_manual?: boolean };
  /**
   * A forum topic (or private chat topic). A topic not seen before is opened on first use, as if a member had
   * created it; messages in a topic that reply to nothing point at the topic's opening message, as in Telegram.
   */
  threadId?: number;
  /** The message is a forward: where it came from. */
  forwardOrigin?: ForwardOrigin;
  /** A voice note (OGG/Opus bytes). `duration` in seconds. */
  voice?: { bytes: Uint8Array; duration: number; mime_type?: string };
  /** A music/audio file. */
  audio?: { bytes: Uint8Array; duration: number; file_name?: string; mime_type?: string; performer?: string; title?: string };
  /** A round video message. */
  videoNote?: { bytes: Uint8Array; duration: number; length?: number };
  /** Part of an album (use userSendsAlbum to send a whole one). */
  mediaGroupId?: string;
  /** Image bytes: stored once per size (90, 320, 800 px and original side) with the same bytes. */
  photo?: Uint8Array;
  photoSizes?: Array<{ bytes: Uint8Array; width: number; height: number }>;
  document?: { bytes: Uint8Array; file_name: string; mime_type: string };
  caption?: string;
  caption_entities?: MessageEntity[];
  /**
   * The chat the message is sent on behalf of. An anonymous group admin writes as the group itself: pass the group
   * (and GROUP_ANONYMOUS_BOT as `from`, as Telegram does); a user posting as a channel passes the channel (from:
   * CHANNEL_BOT).
   */
  senderChat?: FakeChat | number;
}
