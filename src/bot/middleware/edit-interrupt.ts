import type { MiddlewareFn } from "grammy";
import type { BotContext } from "../context.js";
import { editedQuestion } from "../addressing.js";
import { AnswerSupersededError } from "../answers-in-flight.js";
import { withReplyContext } from "../reply-context.js";

/**
 * An edited question whose answer is still being written: that answer is aborted here, before the chat's queue.
 *
 * Updates of one chat run one after another (sequentialize, keyed by chat), and the edit must stay in that line:
 * its new answer rewrites the chat's history and the old answer's messages, which only the chat's own turn may do.
 * But waiting its turn behind the answer it makes obsolete would mean watching that answer to its end. So the abort
 * happens in front of the queue (this middleware runs before sequentialize), through the answer's own signal
 * (AnswersInFlight); the aborted answer ends within moments, keeps what it showed, and the edit's turn comes next
 * (features/edit.ts) and replaces it.
 *
 * Only the asker's edit aborts, only of a question still addressed to the bot, and only if its text changed.
 */
export const editInterrupt: MiddlewareFn<BotContext> = (ctx, next) => {
  const edited = ctx.editedMessage;
  if (edited && ctx.chat) {
    const key = { chatId: ctx.chat.id, questionMessageId: edited.message_id };
    const inFlight = ctx.deps.answers.find(key);
    if (inFlight && inFlight.askerId === ctx.from?.id) {
      const asked = editedQuestion(ctx);
      const question = asked === undefined ? undefined : withReplyContext(ctx, asked);
      if (question !== undefined && question !== inFlight.question && ctx.deps.answers.abort(key, new AnswerSupersededError())) {
        ctx.editAbortedAnswer = true;
        ctx.log.info({ questionMessageId: edited.message_id }, "question edited while answering: answer aborted");
      }
    }
  }
  return next();
};
