/**
 * Short replies the bot writes itself (not streamed answers: those go through answer.ts), and the one way every
 * other message the bot sends or edits outside a streamed answer takes a slot of the pacer first.
 */
import { GrammyError } from "grammy";
import type { InlineKeyboardMarkup, Message } from "grammy/types";
import type { BotContext } from "./context.js";
import { senderOf } from "./sender.js";
import { targetOf } from "./target.js";
import type { FormattedText } from "../telegram/formatted-text.js";
import { markdownToEntities } from "../telegram/markdown.js";
import { showInInlineMessage } from "../telegram/inline-message.js";
import { splitFormatted } from "../telegram/split.js";
import { firstMessageOptions, topicOptions, type ChatTarget } from "../telegram/target.js";

export interface SendOptions {
  replyMarkup?: InlineKeyboardMarkup;
  /**
   * In groups, shown only to the person who asked (an ephemeral message, Bot API 10.3): their /usage, /tokens and
   * /settings, and refusals meant for them. Where the server refuses ephemeral messages it is a normal reply.
   */
  onlyToSender?: boolean;
}

/**
 * Sends text the bot built itself (already entities) where the update came from: the chat, its forum topic, and in
 * groups as a reply. Split at 4096; a keyboard goes on the last part. Returns the message ids. In inline and guest
 * mode the text replaces the inline message's instead (no ids: it has none in a chat).
 */
export async function sendFormatted(
  ctx: BotContext,
  formatted: FormattedText,
  opts: SendOptions = {},
): Promise<number[]> {
  if (ctx.inlineMessage) {
    await showInInlineMessage({ api: ctx.api, pacer: ctx.deps.pacer, log: ctx.log }, ctx.inlineMessage, formatted, opts.replyMarkup);
    return [];
  }
  const target = targetOf(ctx);
  const parts = splitFormatted(formatted);
  const send = (i: number, receiver?: number): Promise<Message.TextMessage> =>
    paced(ctx, () =>
      ctx.api.sendMessage(target.chatId, parts[i]!.text, {
        entities: parts[i]!.entities,
        link_preview_options: { is_disabled: true },
        ...(i === 0 ? firstMessageOptions(target) : topicOptions(target)),
        ...(i === parts.length - 1 && opts.replyMarkup ? { reply_markup: opts.replyMarkup } : {}),
        ...(receiver !== undefined ? { ephemeral_message_parameters: { receiver_user_id: receiver } } : {}),
      }),
    );
  const ids: number[] = [];
  let next = 0;
  const receiver = opts.onlyToSender ? ephemeralReceiverOf(ctx, target) : undefined;
  if (receiver !== undefined) {
    const first = await sendEphemeral(ctx, () => send(0, receiver));
    if (first?.ephemeral_message_id !== undefined) {
      // Shown to the receiver only; ephemeral messages have no id in the chat (0), so there is none to return.
      for (let i = 1; i < parts.length; i++) await send(i, receiver);
      return [];
    }
    // Ignored (an older server sent it to everyone): the rest go out as it went.
    if (first) {
      ids.push(first.message_id);
      next = 1;
    }
  }
  for (let i = next; i < parts.length; i++) ids.push((await send(i)).message_id);
  return ids;
}

/** Who an ephemeral reply goes to: the user who sent the update, in a group; undefined where there is none. */
function ephemeralReceiverOf(ctx: BotContext, target: ChatTarget): number | undefined {
  if (target.chatType !== "group" && target.chatType !== "supergroup") return undefined;
  if (!ctx.deps.ephemeral.usable()) return undefined;
  // Anonymous admins and channels write as a chat: there is no one person to show it to.
  const sender = senderOf(ctx);
  if (!sender || !("userId" in sender) || ctx.from?.is_bot) return undefined;
  return sender.userId;
}

/**
 * The first part as an ephemeral message: the message, or undefined when the server refused it (nothing was shown;
 * the caller sends a normal reply). A message without an ephemeral_message_id went out to everyone: the server
 * ignores the parameter, and that is remembered too.
 */
async function sendEphemeral(ctx: BotContext, send: () => Promise<Message.TextMessage>): Promise<Message.TextMessage | undefined> {
  const support = ctx.deps.ephemeral;
  try {
    const sent = await send();
    if (sent.ephemeral_message_id === undefined) {
      support.ignored();
      ctx.log.info("ephemeral reply went out as a normal message: the server ignores ephemeral_message_parameters");
    }
    return sent;
  } catch (err) {
    const refusal = support.failed(err);
    if (!refusal) throw err;
    ctx.log.info({ refusal, reason: err instanceof GrammyError ? err.description : String(err) }, "ephemeral reply refused: sent as a normal reply");
    return undefined;
  }
}

/**
 * Runs one Bot API call that sends or edits a message in this update's chat, in a final-class slot of the pacer: it
 * waits for room in the chat's (and the group's, and the bot's) windows, so short replies, refusals and photos never
 * run into Telegram's flood control nor crowd out the answers being streamed.
 */
export async function paced<T>(ctx: BotContext, call: () => Promise<T>): Promise<T> {
  const chat = ctx.chat!;
  const { pacer, shutdown } = ctx.deps;
  const slot = await pacer.acquireFinal(chat.id, chat.type === "private" ? "private" : "group", "message", shutdown);
  try {
    return await call();
  } finally {
    pacer.settle(slot);
  }
}

/** Sends a short text the bot wrote itself, as Markdown (turned into entities). */
export async function replyMarkdown(ctx: BotContext, markdown: string, opts: Pick<SendOptions, "onlyToSender"> = {}): Promise<void> {
  await sendFormatted(ctx, markdownToEntities(markdown), opts);
}

/** A short text for the sender only (in groups an ephemeral message where the server allows it): refusals, /usage. */
export async function replyToSender(ctx: BotContext, markdown: string): Promise<void> {
  await replyMarkdown(ctx, markdown, { onlyToSender: true });
}

/**
 * Replaces the text and keyboard of the message whose button was pressed (an ephemeral one by its own method), in
 * a slot of the pacer. Pressing what is already chosen changes nothing, and Telegram says so: that is fine. Any
 * other failure only leaves the panel stale (what the press changed is saved), so it is logged, not thrown.
 */
export async function editPressedPanel(ctx: BotContext, text: FormattedText, keyboard: InlineKeyboardMarkup): Promise<void> {
  const pressed = ctx.callbackQuery?.message;
  const ephemeralId = pressed && "ephemeral_message_id" in pressed ? pressed.ephemeral_message_id : undefined;
  const other = { entities: text.entities, reply_markup: keyboard };
  try {
    await paced(ctx, () =>
      ephemeralId !== undefined && ctx.chat && ctx.from
        ? ctx.api.editEphemeralMessageText(ctx.chat.id, ctx.from.id, ephemeralId, text.text, other)
        : ctx.editMessageText(text.text, other),
    );
  } catch (err) {
    if (!(err instanceof GrammyError && err.description.includes("message is not modified"))) {
      ctx.log.warn({ err }, "panel not refreshed");
    }
  }
}
