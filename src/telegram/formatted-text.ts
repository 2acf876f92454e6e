import type { MessageEntity } from "grammy/types";

/** Text plus the Telegram message entities that format it (offsets and lengths in UTF-16 code units). */
export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

/** Telegram's limit for a message text, counted after entity parsing (UTF-16 code units here, to be safe). */
export const MESSAGE_LIMIT = 4096;
/** Telegram's limit for a media caption. */
export const CAPTION_LIMIT = 1024;

/** Texts one after another with `separator` between them (empty ones left out); entities move with their text. */
export function joinFormatted(parts: ReadonlyArray<FormattedText | undefined>, separator = "\n\n"): FormattedText {
  let text = "";
  const entities: MessageEntity[] = [];
  for (const part of parts) {
    if (!part || part.text === "") continue;
    if (text) text += separator;
    const offset = text.length;
    text += part.text;
    for (const e of part.entities) entities.push({ ...e, offset: e.offset + offset });
  }
  return { text, entities };
}
