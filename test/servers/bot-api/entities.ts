// Message entities, as Telegram checks them on send and edit: offsets and lengths in UTF-16 code units within the
// text, no surrogate pair split, known types with their required fields, and nesting by the formatting-options rules
// (no partial overlaps; nothing inside code/pre; quotes not inside quotes). Stricter than Telegram, which sometimes
// drops a bad entity silently: here the whole request fails with "can't parse entities". Also the entities Telegram
// adds to user text by itself (a leading /command, @mentions).
import type { MessageEntity } from "grammy/types";
import { canonical, isObject, stripUndefined, type Json } from "./json.js";
import { badRequest, isValidUrl, type Params } from "./params.js";

export const ENTITY_TYPES = [
  "mention",
  "hashtag",
  "cashtag",
  "bot_command",
  "url",
  "email",
  "phone_number",
  "bold",
  "italic",
  "underline",
  "strikethrough",
  "spoiler",
  "blockquote",
  "expandable_blockquote",
  "code",
  "pre",
  "text_link",
  "text_mention",
  "custom_emoji",
  "date_time",
] as const;

/** Text length as Telegram counts it (message limits and entity offsets): UTF-16 code units. */
export const utf16Length = (s: string) => s.length;
const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;
const FORMATTING = new Set(["bold", "italic", "underline", "strikethrough", "spoiler"]);
const QUOTES = new Set(["blockquote", "expandable_blockquote"]);
const MONO = new Set(["code", "pre"]);

/** Whether `child` may sit inside `parent` (Telegram's formatting-options rules, strictly). */
function mayNest(parent: string, child: string): boolean {
  if (MONO.has(parent)) return false;
  if (QUOTES.has(parent)) return !QUOTES.has(child);
  if (MONO.has(child)) return false;
  if (FORMATTING.has(parent) || FORMATTING.has(child)) return true;
  // Quotes are block-level: allowed inside formatting only (handled above), not inside links, mentions, etc.
  return false;
}

/**
 * Returns the reason the entities are invalid for `text`, or undefined when they are fine.
 * The server answers `Bad Request: can't parse entities: <reason>`.
 */
export function entityError(text: string, entities: unknown): string | undefined {
  if (!Array.isArray(entities)) return "entities must be an array of MessageEntity objects";
  const length = utf16Length(text);
  const checked: Array<{ type: string; start: number; end: number; index: number }> = [];
  for (let i = 0; i < entities.length; i++) {
    const e: unknown = entities[i];
    if (!isObject(e)) return `entity ${i} is not an object`;
    const { type, offset, length: len } = e;
    if (typeof type !== "string" || !(ENTITY_TYPES as readonly string[]).includes(type)) {
      return `entity ${i} has unsupported type ${JSON.stringify(type)}`;
    }
    if (typeof offset !== "number" || !Number.isInteger(offset)) return `entity ${i} offset must be an integer`;
    if (typeof len !== "number" || !Number.isInteger(len)) return `entity ${i} length must be an integer`;
    if (offset < 0) return `entity ${i} has negative offset`;
    if (len < 1) return `entity ${i} has length below 1`;
    if (offset + len > length) {
      return `entity ${i} (${type}) ends at ${offset + len}, beyond the text length ${length} (UTF-16 code units)`;
    }
    const end = offset + len;
    const splitsPair = (at: number) =>
      at > 0 && at < length && isHighSurrogate(text.charCodeAt(at - 1)) && isLowSurrogate(text.charCodeAt(at));
    if (splitsPair(offset) || splitsPair(end)) return `entity ${i} (${type}) splits a UTF-16 surrogate pair`;
    if (type === "text_link" && (typeof e.url !== "string" || !isValidUrl(e.url, true))) {
      return `entity ${i} text_link has an invalid url ${JSON.stringify(e.url)}`;
    }
    if (type === "text_mention" && !(isObject(e.user) && Number.isInteger(e.user.id))) {
      return `entity ${i} text_mention needs a user with an integer id`;
    }
    if (type === "custom_emoji" && typeof e.custom_emoji_id !== "string") {
      return `entity ${i} custom_emoji needs custom_emoji_id`;
    }
    if (type === "pre" && e.language !== undefined && typeof e.language !== "string") {
      return `entity ${i} pre language must be a string`;
    }
    if (type === "date_time" && !Number.isInteger(e.unix_time)) return `entity ${i} date_time needs unix_time`;
    checked.push({ type, start: offset, end, index: i });
  }
  // Outer before inner: by start, longer first; on equal ranges quotes outermost and code/pre innermost.
  const rank = (t: string) => (QUOTES.has(t) ? 0 : MONO.has(t) ? 2 : 1);
  checked.sort((a, b) => a.start - b.start || b.end - a.end || rank(a.type) - rank(b.type));
  const stack: typeof checked = [];
  for (const e of checked) {
    while (stack.length > 0 && stack[stack.length - 1]!.end <= e.start) stack.pop();
    const top = stack[stack.length - 1];
    if (top && e.end > top.end) {
      return `entities ${top.index} (${top.type}) and ${e.index} (${e.type}) overlap partially`;
    }
    for (const ancestor of stack) {
      if (!mayNest(ancestor.type, e.type)) {
        return `entity ${e.index} (${e.type}) can't be nested inside entity ${ancestor.index} (${ancestor.type})`;
      }
    }
    stack.push(e);
  }
  return undefined;
}

/** The `entities`/`caption_entities` parameter for `text`, validated; undefined when absent or empty. */
export function entitiesFrom(p: Params, name: string, text: string): MessageEntity[] | undefined {
  const value = p.json(name, `can't parse entities: ${name} is not valid JSON`);
  if (value === undefined) return undefined;
  const reason = entityError(text, value);
  if (reason) throw badRequest(`can't parse entities: ${reason}`);
  const list = (value as Json[]).map((e) => stripUndefined(e) as unknown as MessageEntity);
  return list.length > 0 ? list : undefined;
}

/** Formatting is always entities: parse_mode is refused so that the bot's own entities are what gets tested. */
export function noParseMode(p: Params): void {
  if (p.has("parse_mode")) throw badRequest("can't parse entities: this test server accepts entities only");
}

/** Same entities regardless of order and key order (for "message is not modified"). */
export function sameEntities(a: MessageEntity[] | undefined, b: MessageEntity[] | undefined): boolean {
  const norm = (list: MessageEntity[] | undefined) => (list ?? []).map(canonical).sort();
  const x = norm(a);
  const y = norm(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Entities Telegram adds to user text by itself: a leading /command and @username mentions. */
export function autoEntities(text: string): MessageEntity[] {
  const entities: MessageEntity[] = [];
  const command = /^\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?/.exec(text);
  if (command) entities.push({ type: "bot_command", offset: 0, length: command[0].length });
  const mention = /(^|[^A-Za-z0-9_@/])(@[A-Za-z0-9_]{4,32})/g;
  for (let m = mention.exec(text); m; m = mention.exec(text)) {
    entities.push({ type: "mention", offset: m.index + m[1]!.length, length: m[2]!.length });
  }
  return entities;
}
