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
