// A strict fake Telegram Bot API server for end-to-end tests and benchmarks. grammY talks to it unchanged through
// `client: { apiRoot: server.apiRoot }`. It is deliberately stricter than Telegram where Telegram silently "fixes"
// things (parse_mode is refused, entities are validated hard) so that the bot's own formatting is what gets tested,
// and it enforces Telegram's flood limits with real 429 answers.
//
// Strict where Telegram is: a message_thread_id must name a real topic, the bot must be a member of the chat (and not
// blocked), every request that changes a chat counts against flood control. It models channels and discussion
// groups, forum topics, drafts with a stop button, ephemeral messages, webhook delivery, inline mode and guest mode,
// and users who reply with quotes, forward, send albums, voice notes and documents, paste long texts and edit.
//
// This is the public entry; the server lives in ./bot-api/, one file per concern of the Bot API it models.
export { BotApiServer, startBotApiServer } from "./bot-api/server.js";
export { CHANNEL_BOT, GROUP_ANONYMOUS_BOT, TELEGRAM_SERVICE_USER } from "./bot-api/chats.js";
export { DEFAULT_LIMITS } from "./bot-api/flood-limits.js";
export { DRAFT_LIFETIME_MS } from "./bot-api/drafts.js";
export { ENTITY_TYPES, autoEntities, entityError } from "./bot-api/entities.js";
export { EPHEMERAL_UNSUPPORTED } from "./bot-api/ephemeral.js";
export { MESSAGE_NOT_MODIFIED } from "./bot-api/messages.js";
export { splitLikeClient, type AlbumItem } from "./bot-api/user-actions.js";
export { audioKind, opusDuration } from "./bot-api/audio-format.js";
export { DEFAULT_WEBHOOK_DELIVERY } from "./bot-api/webhook-delivery.js";
export type { InlineAnswer } from "./bot-api/inline.js";
export type {
  ApiErrorBody,
  AudioInfo,
  BotApiServerOptions,
  BotApiStats,
  Call,
  ChatMemberStatus,
  ChatType,
  DocumentInfo,
  DraftState,
  DraftUpdate,
  FakeChat,
  FakeUser,
  FileInfo,
  FloodLimits,
  ForumTopicState,
  ForwardOrigin,
  MessageVersion,
  PhotoSize,
  RateWindow,
  StoredMessage,
  TextQuote,
  UserSendsOptions,
  VideoNoteInfo,
  VoiceInfo,
  WaitForOptions,
  WebhookDeliveryOptions,
} from "./bot-api/types.js";
