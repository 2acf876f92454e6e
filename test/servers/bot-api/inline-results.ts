// Inline query results (answerInlineQuery, answerGuestQuery), as Telegram checks them: a known type, an id of 1-64
// bytes, the fields each type needs (an article's title and input_message_content), text content of 1-4096 UTF-16
// code units with validated entities (never parse_mode), and an inline keyboard as the only reply_markup. Also the
// message a chosen result becomes.
import type { MessageEntity } from "grammy/types";
import { entityError, utf16Length } from "./entities.js";
import { isObject, stripUndefined, type Json } from "./json.js";
import { validateReplyMarkup } from "./markup.js";
import { badRequest, isValidUrl } from "./params.js";

const RESULT_TYPES = new Set([
  "article", "photo", "gif", "mpeg4_gif", "video", "audio", "voice", "document", "location", "venue", "contact", "game", "sticker",
]);

/** What a chosen result shows in the chat. */
export interface ResultContent {
  text?: string;
  entities?: MessageEntity[];
  caption?: string;
  caption_entities?: MessageEntity[];
  photoUrl?: string;
  reply_markup?: unknown;
}

/** A checked result: its id and what it becomes when chosen. */
export interface CheckedResult {
  id: string;
  type: string;
  content: ResultContent;
  /** Carries an inline keyboard: the sent message gets an inline_message_id. */
  hasKeyboard: boolean;
}

const parseError = (type: string, reason: string) => badRequest(`can't parse InlineQueryResult${type ? ` of type ${type}` : ""}: ${reason}`);

function textContent(raw: unknown, type: string): ResultContent {
  if (!isObject(raw)) throw parseError(type, "input_message_content must be an object");
  if (raw.parse_mode !== undefined) throw badRequest("can't parse entities: this test server accepts entities only");
  if (typeof raw.message_text !== "string") throw parseError(type, "this test server models text input_message_content only (message_text)");
  const text = raw.message_text;
  if (text.trim() === "") throw badRequest("MESSAGE_EMPTY");
  if (utf16Length(text) > 4096) throw badRequest("MESSAGE_TOO_LONG");
  let entities: MessageEntity[] | undefined;
  if (raw.entities !== undefined) {
    const reason = entityError(text, raw.entities);
    if (reason) throw badRequest(`can't parse entities: ${reason}`);
    entities = (raw.entities as Json[]).map((e) => stripUndefined(e) as unknown as MessageEntity);
  }
  return stripUndefined({ text, entities: entities?.length ? entities : undefined });
}

/** One result, checked. */
export function checkResult(raw: unknown): CheckedResult {
  if (!isObject(raw)) throw parseError("", "result must be an object");
  const type = typeof raw.type === "string" ? raw.type.toLowerCase() : "";
  if (!RESULT_TYPES.has(type)) throw badRequest(`unsupported inline query result type ${JSON.stringify(raw.type)}`);
  if (typeof raw.id !== "string" || raw.id === "" || Buffer.byteLength(raw.id) > 64) throw badRequest("RESULT_ID_INVALID");
  let hasKeyboard = false;
  if (raw.reply_markup !== undefined) {
    validateReplyMarkup(raw.reply_markup);
    if (!isObject(raw.reply_markup) || !Array.isArray(raw.reply_markup.inline_keyboard)) throw parseError(type, "reply_markup must be an inline keyboard");
    hasKeyboard = raw.reply_markup.inline_keyboard.length > 0;
  }
  let content: ResultContent;
  if (type === "article") {
    if (typeof raw.title !== "string" || raw.title === "") throw parseError(type, 'Field "title" must be of type String');
    if (raw.input_message_content === undefined) throw parseError(type, 'Field "input_message_content" must be of type Object');
    content = textContent(raw.input_message_content, type);
  } else if (raw.input_message_content !== undefined) {
    content = textContent(raw.input_message_content, type);
  } else if (type === "photo") {
    const url = raw.photo_url ?? raw.photo_file_id;
    if (typeof url !== "string" || url === "") throw parseError(type, 'Field "photo_url" must be of type String');
    if (raw.photo_url !== undefined && !(typeof raw.photo_url !== "string" || !isValidUrl(raw.photo_url, false))) throw badRequest("PHOTO_INVALID");
    if (raw.parse_mode !== undefined) throw badRequest("can't parse entities: this test server accepts entities only");
    content = stripUndefined({ photoUrl: url, caption: typeof raw.caption === "string" ? raw.caption : undefined });
  } else {
    content = { text: `[${type}]` };
  }
  if (hasKeyboard) content.reply_markup = raw.reply_markup;
  return { id: raw.id, type, content, hasKeyboard };
}
