import type { Message, MessageEntity } from "grammy/types";
import type { BotContext } from "./context.js";

/**
 * The question in a message addressed to the bot, or undefined when the message is not for the bot.
 * Private chat: any text that is not a command. Groups: a message that mentions the bot (the mention is removed from
 * the question) or replies to one of the bot's messages. /ask is handled by its own command.
 */
export function addressedQuestion(ctx: BotContext): string | undefined {
  const msg = ctx.msg;
  if (!msg || !ctx.chat) return undefined;
  const text = msg.text ?? msg.caption;
  const entities = msg.entities ?? msg.caption_entities ?? [];
  if (text === undefined) return undefined;
  if (startsWithCommand(entities)) return undefined;
  if (ctx.chat.type === "private") return text.trim();
  const me = ctx.me;
  const mention = entities.find((e) => isMentionOf(e, text, me.username, me.id));
  if (mention) {
    const without = (text.slice(0, mention.offset) + text.slice(mention.offset + mention.length)).replace(/\s+/g, " ");
    return without.trim();
  }
  if (isReplyToBot(msg, me.id)) return text.trim();
  return undefined;
}

/**
 * The question in an edited message (text only), or undefined when the edited message is not addressed to the bot.
 * Like addressedQuestion, and also `/ask question` (commands do not see edits). Empty questions count as none.
 */
export function editedQuestion(ctx: BotContext): string | undefined {
  const msg = ctx.editedMessage;
  if (!msg?.text) return undefined;
  const command = msg.entities?.find((e) => e.type === "bot_command" && e.offset === 0);
  if (command) {
    const [name, at] = msg.text.slice(1, command.length).split("@");
    if (name?.toLowerCase() !== "ask" || (at !== undefined && at.toLowerCase() !== ctx.me.username.toLowerCase())) return undefined;
    return msg.text.slice(command.length).trim() || undefined;
  }
  return addressedQuestion(ctx) || undefined;
}

/** A message meant for the bot: anything in a private chat; in groups a command for it, a mention or a reply. */
export function isAddressedToBot(ctx: BotContext): boolean {
  const msg = ctx.message;
  if (!msg || !ctx.chat) return false;
  if (ctx.chat.type === "private") return true;
  if (isCommandForMe(msg.text ?? msg.caption, msg.entities ?? msg.caption_entities, ctx.me.username)) return true;
  return addressedQuestion(ctx) !== undefined;
}

/**
 * The message this one replies to, if any. In forum topics every message "replies" to the topic's service message:
 * that is not a reply to anything, so it is left out.
 */
export function repliedTo(msg: Message): Message | undefined {
  const reply = msg.reply_to_message;
  if (!reply || (msg.is_topic_message && reply.message_id === msg.message_thread_id)) return undefined;
  return reply;
}

function isReplyToBot(msg: Message, botId: number): boolean {
  return repliedTo(msg)?.from?.id === botId;
}

function startsWithCommand(entities: MessageEntity[]): boolean {
  return entities.some((e) => e.type === "bot_command" && e.offset === 0);
}

function isMentionOf(e: MessageEntity, text: string, username: string, id: number): boolean {
  if (e.type === "mention") return text.slice(e.offset + 1, e.offset + e.length).toLowerCase() === username.toLowerCase();
  if (e.type === "text_mention") return e.user.id === id;
  return false;
}

function isCommandForMe(text: string | undefined, entities: MessageEntity[] | undefined, username: string): boolean {
  const command = entities?.find((e) => e.type === "bot_command" && e.offset === 0);
  if (!command || text === undefined) return false;
  const at = text.slice(0, command.length).split("@")[1];
  return at === undefined || at.toLowerCase() === username.toLowerCase();
}

/**
 * The question in the caption of a file or picture sent to the bot ("" for none), or undefined when it is not for
 * the bot. Private chat: always for the bot. Groups: a caption that starts with /ask (or /ask@thisbot) or mentions
 * the bot, or a file without caption sent as a reply to the bot ("and this one?").
 */
export function captionQuestion(ctx: BotContext): string | undefined {
  const msg = ctx.msg!;
  const asked = askInCaption(msg, ctx.me.username);
  if (asked !== undefined) return asked;
  const addressed = addressedQuestion(ctx);
  if (addressed !== undefined) return addressed;
  if (ctx.chat?.type === "private") return (msg.caption ?? "").trim();
  if (msg.caption === undefined && repliedTo(msg)?.from?.id === ctx.me.id) return "";
  return undefined;
}

/** The question of a caption that starts with `/ask` (or `/ask@thisbot`), else undefined. */
function askInCaption(msg: Message, botUsername: string): string | undefined {
  const caption = msg.caption;
  const command = msg.caption_entities?.find((e) => e.type === "bot_command" && e.offset === 0);
  if (caption === undefined || command === undefined) return undefined;
  const [name, target] = caption.slice(1, command.length).toLowerCase().split("@");
  if (name !== "ask" || (target !== undefined && target !== botUsername.toLowerCase())) return undefined;
  return caption.slice(command.length).trim();
}
