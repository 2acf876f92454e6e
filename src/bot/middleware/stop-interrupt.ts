import { Composer, type Middleware } from "grammy";
import type { BotContext } from "../context.js";
import { STOP_DATA } from "../answer-buttons.js";
import { AnswerStoppedError, type AnswerInFlight } from "../answers-in-flight.js";
import { isChatAdmin, isOwner } from "../chat-admin.js";
import { replyMarkdown } from "../reply.js";
import { isAllowed } from "../../services/access.js";

/**
 * Stops, handled before the chat's queue: a stop must not wait behind the very answer it stops (updates of one chat
 * run one after another, and the answer being stopped holds the chat's turn). Like the edit interrupt
 * (edit-interrupt.ts), it only aborts the answer through its own signal (AnswersInFlight, reason AnswerStoppedError);
 * the answer then ends within moments in its own turn: the text so far goes out as the final message with a
 * "stopped" note, history keeps it marked, and only what was used is counted.
 *
 * - `stopped_message_generation` (the stop button Telegram shows under a draft sent with can_stop): the answer
 *   showing that draft. A stop for a draft no answer in flight shows (finished, or unknown) is ignored.
 * - The Stop button under a message streaming by edits (`stop:<question>`): the asker, a chat admin or an owner may
 *   press it; anyone else is told so in the callback answer and nothing stops. A press on a finished answer is told
 *   "this answer is finished". The callback is answered here, so `i18n` runs here for it.
 * - `/stop`: the chat's answers in flight (in groups the sender's own, or every one for an admin); with none, it
 *   says there is nothing to stop (at once too: not after an answer someone else is being written).
 */
export function stopInterrupt(i18n: Middleware<BotContext>): Middleware<BotContext> {
  const stop = new Composer<BotContext>();

  stop.on("stopped_message_generation", (ctx) => {
    const { chat, draft_id: draftId } = ctx.update.stopped_message_generation;
    const answer = ctx.deps.answers.findByDraft(chat.id, draftId);
    if (!answer || !ctx.deps.answers.abort(answer, new AnswerStoppedError())) {
      ctx.log.debug({ draftId }, "stop of a draft no answer in flight shows: ignored");
      return;
    }
    ctx.log.info({ draftId, questionMessageId: answer.questionMessageId }, "answer stopped from its draft");
  });

  stop.callbackQuery(STOP_DATA, i18n, async (ctx) => {
    const chatId = ctx.chat?.id;
    const answer = chatId === undefined ? undefined : ctx.deps.answers.find({ chatId, questionMessageId: Number(ctx.match[1]) });
    if (!answer || answer.signal.aborted) {
      await ctx.answerCallbackQuery({ text: ctx.t("answer-finished") }).catch(() => undefined);
      return;
    }
    if (!(await mayStop(ctx, answer))) {
      await ctx.answerCallbackQuery({ text: ctx.t("stop-not-yours") }).catch(() => undefined);
      return;
    }
    ctx.deps.answers.abort(answer, new AnswerStoppedError());
    ctx.log.info({ questionMessageId: answer.questionMessageId, by: ctx.from.id }, "answer stopped by its Stop button");
    await ctx.answerCallbackQuery({ text: ctx.t("stop-done") }).catch(() => undefined);
  });

  stop.command("stop", i18n, async (ctx, next) => {
    // Who may not use the bot is told so by the access gate, in the queue; nothing of theirs is in flight anyway.
    if (!isAllowed(ctx.deps.config.access, ctx.from?.id, ctx.chat.id)) return next();
    const all = ctx.deps.answers.inChat(ctx.chat.id).filter((a) => !a.signal.aborted);
    // In a group, a member stops their own answers; an admin (or an owner) stops every one.
    const everyone = ctx.chat.type === "private" || (all.some((a) => a.askerId !== ctx.from?.id) && (await isChatAdmin(ctx)));
    const stopped = all.filter((a) => (everyone || a.askerId === ctx.from?.id) && ctx.deps.answers.abort(a, new AnswerStoppedError()));
    if (stopped.length > 0) {
      // Each stopped answer ends with its own "stopped" note.
      ctx.log.info({ stopped: stopped.length }, "answers stopped by /stop");
      return;
    }
    await replyMarkdown(ctx, ctx.t("stop-nothing"));
  });

  return stop;
}

/** The asker, an owner, or an admin of the chat (a private chat's one user is its admin). */
async function mayStop(ctx: BotContext, answer: AnswerInFlight): Promise<boolean> {
  if (answer.askerId !== undefined && answer.askerId === ctx.from?.id) return true;
  return isOwner(ctx) || (await isChatAdmin(ctx));
}
