/**
 * A streaming answer is rendered again and again as it grows (each draft, then the final text), each text a prefix
 * of the next. CommonMark reads blocks forward: once a later top-level block has started, every block before it is
 * closed and reads the same whatever follows. So a render parses only from the start of the last closed-off block of
 * an earlier render, and writes after what the blocks before it rendered to.
 *
 * A block counts as started once its first two lines are complete (a table's header needs the delimiter row below
 * it). Texts with a link reference definition (`]:`, which can change any earlier link) or a carriage return
 * (markdown-it counts lines differently then) are always parsed whole.
 */
import type { MessageEntity } from "grammy/types";
import { hideUnfinishedLines, parseMarkdown } from "./parser.js";
import { renderTokens, type Rendered } from "./walker.js";

/** What the closed top-level blocks at the start of a text rendered to (lastLine relative to the line after). */
interface Settled extends Rendered {
  /** The source they were read from and the two lines after them that closed them: a text starting so reuses them. */
  key: string;
  /** Where the block after them starts in `key`. */
  end: number;
}

/** Most recent first: about one for each answer streaming at the same time. */
const settled: Settled[] = [];
const KEEP = 32;

/** Start of line `line` (0-based) in `s`; with Infinity, the number of line breaks instead. */
function lineStart(s: string, line: number): number {
  let at = 0;
  let k = 0;
  for (; k < line; k++) {
    const next = s.indexOf("\n", at);
    if (next === -1) break;
    at = next + 1;
  }
  return line === Infinity ? k : at;
}

/** Text and entities (before repair) of a draft (`partial`) or final text. `reuse` false parses the whole text. */
export function renderMarkdown(markdown: string, partial: boolean, reuse = true): { text: string; entities: MessageEntity[] } {
  const source = partial ? hideUnfinishedLines(markdown) : markdown;
  const reusable = reuse && !source.includes("\r") && !source.includes("]:");
  const index = reusable ? settled.findIndex((s) => source.startsWith(s.key)) : -1;
  const base = index >= 0 ? settled.splice(index, 1)[0] : undefined;
  const offset = base?.end ?? 0;
  const tail = source.slice(offset);
  const tokens = parseMarkdown(tail, partial);
  // The last top-level block whose first two lines are complete: the blocks before it are closed.
  const completeLines = lineStart(tail, Infinity);
  let start = -1;
  for (let i = 0; i < tokens.length; i++) {
    const { level, nesting, map } = tokens[i]!;
    if (level === 0 && nesting !== -1 && map && map[0] + 2 <= completeLines) start = i;
  }
  const rendered = renderTokens(tokens, base, reusable && start > 0 ? start : -1);
  const startLine = tokens[start]?.map?.[0];
  if (rendered.snapshot && startLine !== undefined) {
    const { text, entities, lastLine } = rendered.snapshot;
    const key = source.slice(0, offset + lineStart(tail, startLine + 2));
    settled.unshift({ key, end: offset + lineStart(tail, startLine), text, entities, lastLine: lastLine - startLine });
  } else if (base) settled.unshift(base);
  settled.length = Math.min(settled.length, KEEP);
  return rendered;
}
