/**
 * Markdown as chat models write it → plain text plus Telegram entities. We never send parse_mode: there is nothing to
 * escape, so no answer can fail to parse, and every result is valid for Telegram whatever the input (repair.ts).
 *
 * markdown/parser.ts reads the Markdown (markdown-it: CommonMark and GFM, set up for chat models), walker.ts maps its
 * tokens to text and entities, repair.ts makes them acceptable to Telegram; drafts.ts parses only the end of a
 * growing answer again.
 *
 * `partial` renders a text that is still streaming so that it does not flicker: the block still being written
 * auto-closes its open markers instead of showing them, half-typed markers and links at the very end are hidden, an
 * open fence is a `pre` block already, and a table shows once its delimiter row is there.
 */
import type { FormattedText } from "./formatted-text.js";
import { checkEntities } from "./entity-check.js";
import { renderMarkdown } from "./markdown/drafts.js";
import { repairEntities } from "./markdown/repair.js";

export interface MarkdownOptions {
  /** The text is still being streamed: hide dangling markers and style the open block as if it were closed. */
  partial?: boolean;
}

/**
 * Converts a chat model's Markdown to plain text plus Telegram entities (never parse_mode).
 * With `partial`, the text is a prefix of an answer still streaming: see the module comment.
 */
export function markdownToEntities(markdown: string, opts?: MarkdownOptions): FormattedText {
  const partial = opts?.partial === true;
  try {
    const { text, entities } = renderMarkdown(markdown, partial);
    const ft = repairEntities(text, entities);
    return checkEntities(ft) === null ? ft : { text: ft.text, entities: [] };
  } catch {
    // Plain text rather than nothing: every character that arrived reaches the chat.
    return { text: markdown.trim(), entities: [] };
  }
}
