/**
 * Splits a formatted text into messages of at most `limit` UTF-16 units, cutting where a reader would: between
 * paragraphs, else between lines, else between words, and inside a code block only between its lines. Entities are
 * re-based onto each part; one that crosses a cut continues in the next part (a `pre` keeps its language, a link its
 * url).
 */
import type { MessageEntity } from "grammy/types";
import { MESSAGE_LIMIT, type FormattedText } from "./formatted-text.js";
import { isWhitespaceOnly, splitsSurrogatePair } from "./entity-check.js";

/** `index` moved back by one if it would fall between the halves of a surrogate pair. */
export function utf16Safe(text: string, index: number): number {
  return splitsSurrogatePair(text, index) ? index - 1 : index;
}

// Cut kinds, best first. A cut position c means the part ends just before c.
const PARAGRAPH = 0; // at a blank line, or just before/after a code block
const LINE = 1; // at a line break outside code
const CODE_LINE = 2; // between two lines of a code block
const SPACE = 3; // between words outside code
const CODE_SPACE = 4; // between words inside a code line (a code line longer than the limit)
const KINDS = 5;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d;
}

function isWhitespaceCode(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && (isWhitespaceCode(text.charCodeAt(i)) || isWhitespaceOnly(text, i, i + 1))) i++;
  return i;
}

function trimEndFrom(text: string, start: number, end: number): number {
  while (end > start && (isWhitespaceCode(text.charCodeAt(end - 1)) || isWhitespaceOnly(text, end - 1, end))) end--;
  return end;
}

interface Range {
  start: number;
  end: number;
}

/**
 * Where to end the part that starts at `start` (a non-space character). Greedy: the latest cut of the best kind that
 * still fills at least half of the part; if no kind does, the best kind anywhere; else a hard cut at the limit.
 */
function chooseCut(text: string, start: number, limit: number, pres: Range[]): number {
  const windowEnd = Math.min(text.length, start + limit);
  const half = start + Math.ceil(limit / 2);
  const lastInUpperHalf = new Array<number>(KINDS).fill(-1);
  const lastAnywhere = new Array<number>(KINDS).fill(-1);
  const note = (kind: number, c: number): void => {
    if (c <= start) return;
    lastAnywhere[kind] = c;
    if (c >= half) lastInUpperHalf[kind] = c;
  };
  let preIndex = 0;
  while (preIndex < pres.length && (pres[preIndex] as Range).end <= start) preIndex++;
  // A cut at c = windowEnd is allowed (the part is then exactly `limit` long), so look at text[windowEnd] too.
  const scanEnd = Math.min(text.length - 1, windowEnd);
  for (let p = start + 1; p <= scanEnd; p++) {
    const c = text.charCodeAt(p);
    if (c !== 0x0a && !isSpace(c)) continue;
    while (preIndex < pres.length && (pres[preIndex] as Range).end <= p) preIndex++;
    const pre = pres[preIndex];
    const insidePre = pre !== undefined && pre.start < p && p < pre.end;
    if (c === 0x0a) {
      if (insidePre) {
        note(CODE_LINE, p);
        continue;
      }
      const nextIsBreak = text.charCodeAt(p + 1) === 0x0a;
      const previousIsBreak = text.charCodeAt(p - 1) === 0x0a;
      const touchesPre =
        (pre !== undefined && pre.start === p + 1) ||
        (preIndex > 0 && (pres[preIndex - 1] as Range).end === p) ||
        (pre !== undefined && pre.end === p);
      note(nextIsBreak || previousIsBreak || touchesPre ? PARAGRAPH : LINE, p);
    } else {
      note(insidePre ? CODE_SPACE : SPACE, p);
    }
  }
  for (let kind = 0; kind < KINDS; kind++) if ((lastInUpperHalf[kind] as number) > start) return lastInUpperHalf[kind] as number;
  for (let kind = 0; kind < KINDS; kind++) if ((lastAnywhere[kind] as number) > start) return lastAnywhere[kind] as number;
  const hard = utf16Safe(text, windowEnd);
  return hard > start ? hard : Math.min(text.length, start + 2);
}

function slicePart(ft: FormattedText, start: number, end: number): FormattedText {
  const text = ft.text.slice(start, end);
  const entities: MessageEntity[] = [];
  for (const entity of ft.entities) {
    const from = Math.max(entity.offset, start);
    const to = Math.min(entity.offset + entity.length, end);
    if (to <= from || isWhitespaceOnly(ft.text, from, to)) continue;
    entities.push({ ...entity, offset: from - start, length: to - from });
  }
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

/**
 * Splits `ft` into parts of at most `limit` UTF-16 units (see the module comment). Whitespace at the cuts is dropped,
 * parts are never empty, and a text that fits is returned as it is: `[ft]`.
 */
export function splitFormatted(ft: FormattedText, limit: number = MESSAGE_LIMIT): FormattedText[] {
  const text = ft.text;
  if (text.length <= limit) return [ft];
  const pres: Range[] = ft.entities
    .filter((e) => e.type === "pre")
    .map((e) => ({ start: e.offset, end: e.offset + e.length }))
    .sort((a, b) => a.start - b.start);
  const parts: FormattedText[] = [];
  let start = skipWhitespace(text, 0);
  const textEnd = trimEndFrom(text, start, text.length);
  while (start < textEnd) {
    const cut = textEnd - start <= limit ? textEnd : chooseCut(text, start, limit, pres);
    const end = trimEndFrom(text, start, cut);
    if (end > start) parts.push(slicePart(ft, start, end));
    start = skipWhitespace(text, cut);
  }
  return parts;
}
