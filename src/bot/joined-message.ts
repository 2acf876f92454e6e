/**
 * The one message a joined question is answered as (bot/message-joiner.ts groups them): the features read it like
 * any message, so `/ask`, mentions, captions and links keep working.
 * - a long paste: the first part with the whole text (the parts joined by a line break) and all their entities;
 * - forwards: the comment (else the first forward), its text first (a command or mention stays where features look
 *   for it), then each forwarded text under the name of where it came from; the first picture or document of the
 *   forwards goes along, with that text as its caption;
 * - an album: the item that carries the caption (else the first); every item is in `ctx.joined`.
 */
import type { Message, MessageEntity } from "grammy/types";
import { originName } from "./authors.js";
import type { JoinedMessages } from "./message-joiner.js";

interface Piece {
  text: string;
  entities?: MessageEntity[];
}

function concat(pieces: Piece[], separator: string): { text: string; entities: MessageEntity[] } {
  let text = "";
  const entities: MessageEntity[] = [];
  for (const piece of pieces) {
    if (text.length > 0) text += separator;
    const offset = text.length;
    for (const e of piece.entities ?? []) entities.push({ ...e, offset: e.offset + offset });
    text += piece.text;
  }
  return { text, entities };
}

const pieceOf = (msg: Message): Piece => ({ text: msg.text ?? msg.caption ?? "", entities: msg.entities ?? msg.caption_entities });

/** The message the joined question is handled as. */
export function joinedMessage(joined: JoinedMessages): Message {
  const { messages } = joined;
  if (joined.kind === "album") return messages.find((m) => m.caption !== undefined) ?? messages[0]!;
  if (joined.kind === "paste") {
    const { text, entities } = concat(messages.map(pieceOf), "\n");
    return withText(messages[0]!, text, entities);
  }
  const comment = joined.comment;
  const forwards = messages.filter((m) => m !== comment);
  const pieces: Piece[] = comment ? [pieceOf(comment)] : [];
  for (const fwd of forwards) {
    const heading = `Forwarded from ${fwd.forward_origin ? originName(fwd.forward_origin) : "someone"}:\n`;
    const own = pieceOf(fwd);
    const media = fwd.photo ? "[photo]" : fwd.document ? `[document ${fwd.document.file_name ?? ""}]`.replace(" ]", "]") : "";
    const body = own.text || media;
    pieces.push({ text: heading + body, entities: own.text ? own.entities?.map((e) => ({ ...e, offset: e.offset + heading.length })) : undefined });
  }
  const { text, entities } = concat(pieces, "\n\n");
  const base = comment ?? forwards[0]!;
  const withMedia = forwards.find((m) => m.photo !== undefined || m.document !== undefined);
  if (!withMedia) return withText(base, text, entities);
  const { text: _t, entities: _e, caption: _c, caption_entities: _ce, forward_origin: _f, ...rest } = base;
  return {
    ...rest,
    ...(withMedia.photo ? { photo: withMedia.photo } : { document: withMedia.document }),
    caption: text,
    ...(entities.length > 0 ? { caption_entities: entities } : {}),
  };
}

function withText(base: Message, text: string, entities: MessageEntity[]): Message {
  const { text: _t, entities: _e, caption: _c, caption_entities: _ce, forward_origin: _f, ...rest } = base;
  return { ...rest, text, ...(entities.length > 0 ? { entities } : {}) };
}
