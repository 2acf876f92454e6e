/**
 * The last step of every conversion: whitespace tidied and the entities made acceptable to Telegram whatever the
 * walker produced (see entity-check.ts for the rules), so no answer can be refused for its formatting.
 */
import type { MessageEntity } from "grammy/types";
import type { FormattedText } from "../formatted-text.js";
import { isWhitespaceOnly, splitsSurrogatePair } from "../entity-check.js";

/** Outer kinds first when two entities cover the same range. */
const TYPE_RANK: Record<string, number> = {
  blockquote: 0,
  expandable_blockquote: 0,
  text_link: 1,
  bold: 2,
  italic: 3,
  underline: 4,
  strikethrough: 5,
  spoiler: 6,
  code: 7,
  pre: 7,
};

const family = (type: string): string => (type === "expandable_blockquote" ? "blockquote" : type);

/** Ranges [start, end) of `text` to delete: the ends, and blank-line runs outside `pre` beyond one blank line. */
function removableWhitespace(text: string, raw: MessageEntity[]): Array<[number, number]> {
  const pres = raw.filter((e) => e.type === "pre").sort((a, b) => a.offset - b.offset);
  const ranges: Array<[number, number]> = [];
  let lead = 0;
  while (lead < text.length && isWhitespaceOnly(text, lead, lead + 1)) lead++;
  if (lead > 0) ranges.push([0, lead]);
  let trail = text.length;
  while (trail > lead && isWhitespaceOnly(text, trail - 1, trail)) trail--;
  let preIndex = 0;
  for (let k = text.indexOf("\n", lead); k !== -1 && k < trail; ) {
    let j = k + 1;
    let last = k;
    for (; j < trail; j++) {
      const c = text.charCodeAt(j);
      if (c === 0x0a) last = j;
      else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
    }
    if (last > k + 1) {
      while (preIndex < pres.length && pres[preIndex]!.offset + pres[preIndex]!.length <= k) preIndex++;
      const pre = pres[preIndex];
      if (!(pre !== undefined && pre.offset <= last && pre.offset + pre.length > k)) ranges.push([k + 1, last]);
    }
    k = text.indexOf("\n", Math.max(j, k + 1));
  }
  if (trail < text.length) ranges.push([trail, text.length]);
  return ranges;
}

/**
 * Trims the text, collapses blank-line runs (outside pre) to one blank line, trims each entity to non-whitespace
 * (never splitting a surrogate pair), sorts them, and drops any that Telegram would reject: empty, whitespace only,
 * crossing another, inside code/pre, or nested in its own type.
 */
export function repairEntities(text: string, raw: MessageEntity[]): FormattedText {
  const ranges = removableWhitespace(text, raw);
  const kept: string[] = [];
  const removedBefore: number[] = [];
  let cursor = 0;
  let removed = 0;
  for (const [s, e] of ranges) {
    kept.push(text.slice(cursor, s));
    removedBefore.push(removed);
    removed += e - s;
    cursor = e;
  }
  kept.push(text.slice(cursor));
  const out = ranges.length > 0 ? kept.join("") : text;
  /** A position in `text` mapped into `out` (binary search over the removed ranges). */
  const map = (pos: number): number => {
    let lo = 0;
    let hi = ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid]![0] <= pos) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found === -1) return pos;
    const [s, e] = ranges[found]!;
    return pos >= e ? pos - removedBefore[found]! - (e - s) : s - removedBefore[found]!;
  };

  const entities: MessageEntity[] = [];
  for (const entity of raw) {
    let start = map(entity.offset);
    let end = map(entity.offset + entity.length);
    if (entity.type !== "pre") {
      while (start < end && isWhitespaceOnly(out, start, start + 1)) start++;
      while (end > start && isWhitespaceOnly(out, end - 1, end)) end--;
    }
    if (splitsSurrogatePair(out, start)) start--;
    if (splitsSurrogatePair(out, end)) end++;
    if (end <= start || isWhitespaceOnly(out, start, end)) continue;
    entities.push({ ...entity, offset: start, length: end - start });
  }
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length || (TYPE_RANK[a.type] ?? 5) - (TYPE_RANK[b.type] ?? 5));
  // Ancestors are properly nested, so the innermost one decides crossing and leaf containment, and a count per type
  // decides "nested in its own type" (linear, even for thousands of nested entities).
  const valid: MessageEntity[] = [];
  const open: MessageEntity[] = [];
  const openTypes = new Map<string, number>();
  for (const entity of entities) {
    while (open.length > 0 && open.at(-1)!.offset + open.at(-1)!.length <= entity.offset) {
      const closed = family(open.pop()!.type);
      openTypes.set(closed, openTypes.get(closed)! - 1);
    }
    const top = open.at(-1);
    if (top && (entity.offset + entity.length > top.offset + top.length || top.type === "code" || top.type === "pre")) {
      continue;
    }
    if ((openTypes.get(family(entity.type)) ?? 0) > 0) continue;
    valid.push(entity);
    open.push(entity);
    openTypes.set(family(entity.type), (openTypes.get(family(entity.type)) ?? 0) + 1);
  }
  return { text: out, entities: valid };
}
