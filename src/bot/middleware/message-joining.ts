import type { MiddlewareFn } from "grammy";
import type { BotContext } from "../context.js";
import { AnswerSupersededError } from "../answers-in-flight.js";
import { joinedMessage } from "../joined-message.js";
import type { JoinedMessages } from "../message-joiner.js";

/**
 * Messages meant as one question are handled as one (bot/message-joiner.ts): long pastes, albums, forwards with
 * their comment. Runs before the chat's queue, so waiting for the rest of a group holds no chat's line.
 *
 * The update that starts a group (its leader) stays in flight until the group is complete and answered: the graceful
 * stop waits for it (and flushes every group at once, so nothing waits its window then). Updates joined to it stay in
 * flight until the leader's handling ends too: the update queue marks an update done when its handling ends, so a
 * process killed before the joined question is answered hands every part of it back, not the first alone. The
 * leader's update carries the joined message (`ctx.message`) and every
 * message of the group (`ctx.joined`). A comment that went through alone and that forwards then followed is taken
 * over: its answer is aborted here, as an edited question's is, and the joined question replaces it.
 */
/** A group's handling by its leader, which the updates joined to it wait for (never rejects: the leader reports). */
const handled = new WeakMap<JoinedMessages, Promise<void>>();

export const messageJoining: MiddlewareFn<BotContext> = (ctx, next) => {
  const msg = ctx.update.message;
  if (!msg || !ctx.chat) return next();
  let lead!: (run: () => Promise<void>) => void;
  const led = new Promise<() => Promise<void>>((resolve) => (lead = resolve));
  const ticket = ctx.deps.joiner.offer(msg, (joined) => {
    ctx.joined = joined;
    (ctx.update as { message?: unknown }).message = joinedMessage(joined);
    // Into the chat's queue now, synchronously, before any message that arrived after the group.
    const running = next();
    handled.set(
      joined,
      running.then(
        () => undefined,
        () => undefined,
      ),
    );
    lead(() => running);
  });
  if (ticket.kind === "alone") return next();
  if (ticket.kind === "joined") return ticket.handedOver.then((joined) => handled.get(joined));
  if (ticket.supersedes) {
    const key = { chatId: ctx.chat.id, questionMessageId: ticket.supersedes.message_id };
    if (ctx.deps.answers.abort(key, new AnswerSupersededError())) ctx.log.info(key, "forwards follow a comment being answered: answer aborted");
  }
  ctx.log.debug({ messageId: msg.message_id }, "waiting for the rest of a joined question");
  return led.then((run) => run());
};

/**
 * After the chat's queue: a comment that forwards took over while it waited its turn is not answered alone (the
 * joined question answers it); the joined question's own turn ends that mark.
 */
export const supersededSkip: MiddlewareFn<BotContext> = (ctx, next) => {
  const joiner = ctx.deps.joiner;
  const superseded = ctx.joined?.supersedes;
  if (superseded) joiner.settled(superseded);
  else if (ctx.update.message && joiner.isSuperseded(ctx.update.message)) {
    ctx.log.debug({ messageId: ctx.update.message.message_id }, "comment taken over by the forwards that followed it");
    return;
  }
  return next();
};
