import type { MessageEntity } from "grammy/types";
import type { FormattedText } from "./formatted-text.js";

/**
 * Validation of message entities the way Telegram (TDLib's fix_formatted_text) treats them, made strict: anything
 * Telegram would silently repair or reject counts as an error here, so a FormattedText that passes is sent as-is.
 */

const KNOWN_TYPES = new Set<string>([
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
]);

/** Entities that hold monowidth text: nothing may be nested inside them. */
const LEAF_TYPES = new Set<string>(["code", "pre"]);

/** Entity types of which one may not contain another (Telegram merges or rejects them). */
const BLOCKQUOTE_TYPES = new Set<string>(["blockquote", "expandable_blockquote"]);

/** True for the URLs we accept in a text_link: http(s) with a host, tg://…, mailto:…@… */
export function isAllowedLinkUrl(url: string): boolean {
  if (url.length === 0 || url.length > 2048 || /[\s<>"]/.test(url)) return false;
  const lower = url.slice(0, 10).toLowerCase();
  if (lower.startsWith("http://") || lower.startsWith("https://")) {
    try {
      const parsed = new URL(url);
      return parsed.hostname.length > 0 && (parsed.protocol === "http:" || parsed.protocol === "https:");
    } catch {
      return false;
    }
  }
  if (lower.startsWith("tg://")) return url.length > 5;
  if (lower.startsWith("mailto:")) return /^mailto:[^@]+@[^@]+$/i.test(url);
  return false;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** True when `index` falls between the two halves of a surrogate pair. */
export function splitsSurrogatePair(text: string, index: number): boolean {
  return (
    index > 0 &&
    index < text.length &&
    isHighSurrogate(text.charCodeAt(index - 1)) &&
    isLowSurrogate(text.charCodeAt(index))
  );
}

/** True when text[start, end) holds only whitespace (what Telegram drops an entity for). */
export function isWhitespaceOnly(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) continue;
    if (c > 0x7f && /\s/.test(text[i] as string)) continue;
    return false;
  }
  return true;
}

/** Blockquote kinds count as one type: neither may contain the other. */
function family(type: string): string {
  return BLOCKQUOTE_TYPES.has(type) ? "blockquote" : type;
}

function describe(entity: MessageEntity, index: number): string {
  return `entity #${index} (${entity.type} @${entity.offset}+${entity.length})`;
}

/**
 * Null when `ft` is valid for Telegram, else the first problem found: offsets and lengths are UTF-16 units inside the
 * text and never split a surrogate pair, no entity is only whitespace, entities are sorted by offset (outer first),
 * disjoint or properly nested, nothing is nested inside code/pre, and no entity is nested in one of its own type.
 */
export function checkEntities(ft: FormattedText): string | null {
  const { text, entities } = ft;
  if (typeof text !== "string") return "text is not a string";
  if (!Array.isArray(entities)) return "entities is not an array";
  if (entities.length > 0 && text.length === 0) return "entities on an empty text";
  const open: { end: number; type: string }[] = [];
  const openTypes = new Map<string, number>();
  let previous: MessageEntity | undefined;
  for (let i = 0; i < entities.length; i++) {
    const entity = entities[i] as MessageEntity;
    const name = describe(entity, i);
    if (!KNOWN_TYPES.has(entity.type)) return `${name}: unknown type`;
    if (!Number.isInteger(entity.offset) || entity.offset < 0) return `${name}: bad offset`;
    if (!Number.isInteger(entity.length) || entity.length < 1) return `${name}: bad length`;
    const end = entity.offset + entity.length;
    if (end > text.length) return `${name}: ends after the text (${text.length})`;
    if (splitsSurrogatePair(text, entity.offset)) return `${name}: starts inside a surrogate pair`;
    if (splitsSurrogatePair(text, end)) return `${name}: ends inside a surrogate pair`;
    if (isWhitespaceOnly(text, entity.offset, end)) return `${name}: covers only whitespace`;
    if (entity.type === "text_link" && !isAllowedLinkUrl(entity.url)) return `${name}: bad url ${entity.url}`;
    if (entity.type === "pre" && entity.language !== undefined && !/^[^\s]{1,64}$/.test(entity.language)) {
      return `${name}: bad language`;
    }
    if (previous) {
      if (entity.offset < previous.offset) return `${name}: not sorted by offset`;
      if (entity.offset === previous.offset && entity.length > previous.length) {
        return `${name}: same offset as the previous one but longer (outer entity must come first)`;
      }
    }
    previous = entity;
    // Ancestors are properly nested (checked as they were pushed): the innermost one decides crossing and leaf
    // containment, and a count per type decides nesting in the same type, so this stays linear.
    while (open.length > 0 && (open[open.length - 1] as { end: number }).end <= entity.offset) {
      const closed = open.pop() as { type: string };
      openTypes.set(family(closed.type), (openTypes.get(family(closed.type)) ?? 1) - 1);
    }
    const parent = open[open.length - 1];
    if (parent) {
      if (end > parent.end) return `${name}: crosses an enclosing ${parent.type}`;
      if (LEAF_TYPES.has(parent.type)) return `${name}: nested inside ${parent.type}`;
      if ((openTypes.get(family(entity.type)) ?? 0) > 0) {
        return BLOCKQUOTE_TYPES.has(entity.type)
          ? `${name}: blockquote inside a blockquote`
          : `${name}: nested inside another ${entity.type}`;
      }
    }
    openTypes.set(family(entity.type), (openTypes.get(family(entity.type)) ?? 0) + 1);
    open.push({ end, type: entity.type });
  }
  return null;
}
