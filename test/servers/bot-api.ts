// A strict fake Telegram Bot API server for end-to-end tests and benchmarks. grammY talks to it unchanged through
// `client: { apiRoot: server.apiRoot }`. It is deliberately stricter than Telegram where Telegram silently "fixes"
// things (parse_mode is refused, entities are validated hard) so that the bot's own formatting is what gets tested,
// and it enforces Telegram's flood limits with real 429 answers.
//
// This is the public entry; the server lives in ./bot-api/, one file per concern of the Bot API it models.
export { BotApiServer, startBotApiServer } from "./bot-api/server.js";
export { GROUP_ANONYMOUS_BOT } from "./bot-api/chats.js";
export { DEFAULT_LIMITS } from "./bot-api/flood-limits.js";
export { ENTITY_TYPES, autoEntities, entityError } from "./bot-api/entities.js";
export { MESSAGE_NOT_MODIFIED } from "./bot-api/messages.js";
export type {
  ApiErrorBody,
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
  MessageVersion,
  PhotoSize,
  RateWindow,
  StoredMessage,
  UserSendsOptions,
  WaitForOptions,
} from "./bot-api/types.js";
