import type { Message } from "grammy/types";

/** Most links read for one question: more would crowd out everything else in the budget. */
export const MAX_LINKS_PER_QUESTION = 3;

/**
 * The http(s) links in a message, as Telegram marked them (url entities in the text or caption, and text links),
 * in order, without repeats. A bare "example.com" that Telegram marked is read as http://example.com.
 */
export function linksIn(msg: Message | undefined): string[] {
  if (!msg) return [];
  const text = msg.text ?? msg.caption ?? "";
  const entities = msg.entities ?? msg.caption_entities ?? [];
  const links: string[] = [];
  for (const e of entities) {
    let url: string | undefined;
    if (e.type === "url") url = text.slice(e.offset, e.offset + e.length);
    else if (e.type === "text_link") url = e.url;
    if (!url) continue;
    if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) url = `http://${url}`;
    if (!/^https?:\/\//i.test(url)) continue;
    if (!links.includes(url)) links.push(url);
  }
  return links.slice(0, MAX_LINKS_PER_QUESTION);
}
