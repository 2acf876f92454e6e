/**
 * Answering a question: history in, model out, streamed into the chat, history updated. Questions, photos and
 * tool-backed commands all come through here, so they share limits, notes and memory.
 */
import { anySignal } from "any-signal";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { ChatCompletionMessageParam, ChatCompletionContentPart } from "openai/resources/chat/completions";
import type { BotContext } from "./context.js";
import { admitFurtherCall, admitModelCall, refusalText } from "./admission.js";
import { modelErrorNoteKey } from "./model-error-notes.js";
import { fetchPicture, PictureAllowance, pictureFailureText, pictureRef, type NewPicture } from "./pictures.js";
import { personaOf } from "./persona.js";
import { paced, replyMarkdown } from "./reply.js";
import { recordUsage, type ModelUsage } from "./record-usage.js";
import { senderIdOf, senderOf } from "./sender.js";
import { answerTargetOf, historyKeyOf } from "./target.js";
import { AnswerStoppedError, AnswerSupersededError, type AnswerInFlight } from "./answers-in-flight.js";
import { regenerateButton, stopButton } from "./answer-buttons.js";
import { ModelError } from "../ai/errors.js";
import { contextWindowForModel } from "../ai/models.js";
import { countTokens, messageTokens, REPLY_PRIMING_TOKENS } from "../ai/tokens.js";
import { countTurnTokens } from "../ai/turn-tokens.js";
import type { Tool } from "../ai/tools/tool.js";
import { LimitRefusalError, type CallPermit } from "../services/limits.js";
import { chosenModel } from "../services/models.js";
import { HistoryStore, type HistoryTurn } from "../storage/history.js";
import { streamAnswer, type AnswerEvent, type StreamOutcome } from "../telegram/answer-stream.js";
import type { FormattedText } from "../telegram/formatted-text.js";
import { isInlineTarget } from "../telegram/target.js";

export interface Question {
  text: string;
  /** A picture this question is about: counted before admission, downloaded only once the call is admitted. */
  picture?: NewPicture;
  /** Several pictures (an album), in order; with `picture` too, that one comes first. */
  pictures?: NewPicture[];
  model?: string;
  tools?: Tool[];
  toolChoice?: "auto" | "required";
  /** Earlier pictures in the history go along (downloaded again by file_id); text only when false. */
  seesPictures?: boolean;
  /** The answer's own cancellation (e.g. a stop button); the bot's shutdown cancels it too. */
  signal?: AbortSignal;
  /** Context that goes with the question (documents, retrieved excerpts, linked pages): see QuestionContextSource. */
  context?: QuestionContextSource;
  /** Shown above the answer (e.g. the transcript of a voice question, the question of an inline answer). */
  header?: FormattedText;
  /**
   * The question was edited: this answer replaces the last exchange, whose question is message `questionMessageId`
   * and whose answer shows in `messageIds` (edited in place), in the chat and in history.
   */
  replaces?: { questionMessageId: number; messageIds: readonly number[] };
  /**
   * Regenerate (/retry, the Regenerate button): the history's last question, asked again as it was stored. The new
   * answer streams as a new message replying to it and replaces that exchange in history; the model never sees the
   * old answer.
   */
  regenerates?: HistoryTurn;
}

/** How the model reads an answer the user stopped part way (stored with the turn, counted in its tokens). */
export const STOPPED_MARK = "\n\n[The user stopped this answer here.]";

// ---------------------------------------------------------------------------------------------------------------
// The extension point for context that goes with a question (bot/question-context.ts builds it: documents whole,
// retrieved chunks with their citations, the pages behind links). answerQuestion asks for it once history is fitted,
// sends it as a system message just before the question, counts it into the request (and so into admission), and
// stores what it adds to the user turn (references, never the text).

/** What a context source is told: the question, the history that goes along, what is left of the context window. */
export interface ContextRequest {
  question: string;
  past: readonly HistoryTurn[];
  /** Tokens the context window has left after the system prompt, history, question and the answer's maximum. */
  room: number;
  signal: AbortSignal;
}

export interface QuestionContext {
  /** The material and how to cite it, sent as a system message right before the question. */
  text?: string;
  /** What the stored user turn carries besides its text (references to the documents it brought). */
  turn?: Pick<HistoryTurn, "documents">;
  /** The answer does not go ahead: a limit refused a call ("limited"), or something was told to the user ("told"). */
  stop?: "limited" | "told";
}

/** Gathers the context for one question; it may make its own (admitted) model calls, e.g. embeddings. */
export type QuestionContextSource = (request: ContextRequest) => Promise<QuestionContext>;

export interface AnswerResult extends StreamOutcome {
  usage: ModelUsage[];
  /** True when a rate limit or budget refused the call (the user was told; nothing was spent). */
  limited?: boolean;
}

/**
 * Answers a question. An answer in a chat to a question message (or regenerating one) is registered in
 * `deps.answers` while it runs, by chat and question: an edit of the question, a stop (the draft's stop button, the
 * Stop button, /stop) abort it through the registry's signal from outside the chat's queue.
 */
export function answerQuestion(ctx: BotContext, q: Question): Promise<AnswerResult> {
  const questionMessageId = q.regenerates?.messageId ?? (ctx.message ?? ctx.editedMessage)?.message_id;
  if (q.signal || ctx.inlineMessage || !ctx.chat || questionMessageId === undefined) return answerOnce(ctx, q, undefined);
  const info = { chatId: ctx.chat.id, questionMessageId, askerId: ctx.from?.id, question: q.text };
  return ctx.deps.answers.run(info, (signal, self) => answerOnce(ctx, { ...q, signal }, self));
}

async function answerOnce(ctx: BotContext, q: Question, tracked: AnswerInFlight | undefined): Promise<AnswerResult> {
  const { deps } = ctx;
  const { config, encoding } = deps;
  const settings = await ctx.chatSettings();
  // A model the operator no longer allows (ALLOWED_MODELS changed since /settings) falls back to the configured one.
  const chosen = chosenModel(config, settings);
  const model = q.model ?? chosen ?? config.openai.model;
  const baseTarget = answerTargetOf(ctx);
  // A regenerated answer replies to the question it answers again, not to the button's message or /retry.
  const target = q.regenerates && !isInlineTarget(baseTarget) ? { ...baseTarget, replyToMessageId: q.regenerates.messageId } : baseTarget;
  // Inline and guest answers go into a message outside any conversation with the bot: no history is read or kept.
  const inline = isInlineTarget(target);
  const key = inline ? undefined : historyKeyOf(ctx, settings);
  const group = !inline && target.chatType !== "private";
  // The one signal of this answer: its own cancellation or the bot's shutdown, whichever comes first.
  const signal = anySignal([deps.shutdown, q.signal]);
  // The question's message, remembered with the turn so an edit of it can find and replace this exchange.
  const questionMessageId = q.regenerates?.messageId ?? (ctx.message ?? ctx.editedMessage)?.message_id;
  // The admitted model call's hold on the budgets (one at a time: tool rounds run one after another).
  let permit: CallPermit | undefined;
  // Usage is written as each model call ends, off the stream's path (the final text must not wait for the store).
  let usageWritten = Promise.resolve();

  const newPictures = [...(q.picture ? [q.picture] : []), ...(q.pictures ?? [])];
  const senderId = senderIdOf(ctx);
  try {
    const turn = {
      role: "user" as const,
      content: q.text,
      at: Date.now(),
      ...(group && ctx.from ? { name: ctx.from.first_name } : {}),
      ...(questionMessageId !== undefined ? { messageId: questionMessageId } : {}),
      ...(senderId !== undefined && !inline ? { senderId } : {}),
      // A picture's tokens come from Telegram's sizes (at their most for a document not read yet), not its bytes.
      ...(newPictures.length > 0 ? { images: newPictures.map((p) => pictureRef(p)) } : {}),
    };
    // Counted once, here, with its images and the sender's name; stored with the turn and never counted again.
    let userTurn: HistoryTurn = q.regenerates ? { ...q.regenerates, at: Date.now() } : { ...turn, tokens: countTurnTokens(turn, encoding) };
    // The persona in force (/persona, /system): the member's, the chat's, or the default, in the user's language.
    const system = (await personaOf(ctx, settings)).prompt;
    const systemTokens = messageTokens(system, encoding);
    const windowLeft = contextWindowForModel(model) - config.openai.maxAnswerTokens - systemTokens - userTurn.tokens - REPLY_PRIMING_TOKENS;
    const room = Math.min(config.historyTokenBudget, windowLeft);
    // An edited question is asked again in place of the old one: the model does not see the question it replaces.
    const stored = key === undefined ? [] : await deps.history.load(key);
    // A comment that forwards followed (bot/message-joiner.ts) was answered alone first: the joined question replaces it.
    const replaces = q.replaces ?? supersededExchange(ctx, stored);
    const replacedQuestion = replaces?.questionMessageId ?? q.regenerates?.messageId;
    const before = replacedQuestion !== undefined ? HistoryStore.withoutLastExchange(stored, replacedQuestion) : stored;
    const past = HistoryStore.fitToBudget(before, Math.max(0, room));
    // Earlier pictures go along when the question can resolve them, and then only the vision model can read the
    // request (OPENAI_MODEL may be text-only when OPENAI_VISION_MODEL is set). An explicit or per-chat model wins.
    const seesImages = q.seesPictures === true && past.some((turn) => (turn.images?.length ?? 0) > 0);
    // A regenerated question about a picture goes to the vision model like the first time.
    const regeneratesPicture = (q.regenerates?.images?.length ?? 0) > 0;
    const callModel = q.model ?? chosen ?? (seesImages || regeneratesPicture ? config.openai.visionModel : model);
    const pastTokens = past.reduce((n, turn) => n + turn.tokens, 0);

    // Context that goes with the question (see QuestionContextSource), in what the context window has left.
    const context = q.context
      ? await q.context({ question: q.text, past, room: Math.max(0, windowLeft - pastTokens), signal })
      : undefined;
    if (context?.stop) return { text: "", messageIds: [], aborted: false, usage: [], limited: context.stop === "limited" };
    const contextTokens = context?.text ? messageTokens(context.text, encoding) : 0;

    // Limits before anything is spent: the request's counted tokens plus the answer's maximum must fit the budgets,
    // and stay held there until the call has ended.
    const promptTokens = systemTokens + pastTokens + contextTokens + userTurn.tokens + REPLY_PRIMING_TOKENS;
    const estimate = { model: callModel, promptTokens, maxAnswerTokens: config.openai.maxAnswerTokens };
    permit = await admitModelCall(ctx, estimate);
    if (!permit) return { text: "", messageIds: [], aborted: false, usage: [], limited: true };

    // Pictures only now that the call is admitted: this message's first, then the history's newest first, as many
    // bytes as one request may carry (MAX_PICTURE_MB_PER_REQUEST); older ones that do not fit stay text.
    const allowance = new PictureAllowance(config.pictureBytesPerRequest);
    const newParts: ChatCompletionContentPart[] = [];
    if (newPictures.length > 0) {
      const images = [];
      for (const picture of newPictures) {
        const fetched = await fetchPicture(ctx, pictureRef(picture), allowance, signal);
        if ("failure" in fetched) {
          await replyMarkdown(ctx, pictureFailureText(ctx, fetched.failure));
          return { text: "", messageIds: [], aborted: false, usage: [] };
        }
        newParts.push(fetched.part);
        // A document's size is known now: history keeps what it really costs.
        images.push(pictureRef(picture, fetched.info));
      }
      userTurn = { ...userTurn, images, tokens: countTurnTokens({ ...userTurn, images }, encoding) };
    }
    // A regenerated question brings its pictures again (those that can still be fetched; the text goes anyway).
    for (const image of q.regenerates?.images ?? []) {
      const fetched = await fetchPicture(ctx, image, allowance, signal);
      if ("part" in fetched) newParts.push(fetched.part);
    }
    const pastParts = seesImages ? await historyPictures(ctx, past, allowance, signal) : new Map<HistoryTurn, ChatCompletionContentPart[]>();

    const messages: ChatCompletionMessageParam[] = [{ role: "system", content: system }];
    for (const turn of past) messages.push(toMessage(turn, pastParts.get(turn)));
    if (context?.text) messages.push({ role: "system", content: context.text });
    messages.push(toMessage(userTurn, newParts));

    const usage: ModelUsage[] = [];
    // The model call in progress, for an answer stopped part way (no usage reported): its prompt as estimated and the
    // text it wrote so far, counted here with the model's tokenizer so the budgets and /usage get what was used.
    const current = { started: false, promptTokens: estimate.promptTokens, text: "" };
    /** The permit of the call that just ended, no longer this answer's to release. */
    const endedCall = () => {
      const ended = permit;
      permit = undefined;
      return ended;
    };
    const engine = deps.engine;
    const events = (async function* (): AsyncGenerator<AnswerEvent> {
      for await (const event of engine.stream({
        model: callModel,
        messages,
        maxTokens: config.openai.maxAnswerTokens,
        signal,
        tools: q.tools,
        toolChoice: q.toolChoice,
        // The chat's language (/settings) wins, as for every other text the bot writes (tool statuses, place names).
        language: settings.language ?? ctx.from?.language_code,
        translate: (key, vars) => ctx.t(key, vars),
        // Every further model call of a tool loop is held to the same limits as the first, and holds its own
        // maximum: its prompt is at least the last call's prompt and answer (tool results come on top).
        beforeCall: async () => {
          await usageWritten;
          // The last call ended without reporting usage: nothing to settle it with.
          await endedCall()?.release();
          const last = usage.at(-1);
          const prompt = Math.max(estimate.promptTokens, last ? last.promptTokens + last.completionTokens : 0);
          permit = await admitFurtherCall(ctx, { ...estimate, promptTokens: prompt });
          Object.assign(current, { started: true, promptTokens: prompt, text: "" });
        },
      })) {
        current.started = true;
        if (event.type === "text" || event.type === "status") {
          if (event.type === "text") current.text += event.delta;
          yield event;
        } else if (event.type === "usage") {
          current.started = false;
          const { type: _, ...used } = event;
          usage.push(used);
          // The call's real usage settles its hold: recorded first, then released, so budgets never miss it between.
          const ended = endedCall();
          usageWritten = usageWritten.then(() => recordUsage(ctx, [used])).then(() => ended?.release());
        } else if (event.type === "finish" && event.reason === "length") {
          throw new ModelError("length", "the answer reached its token limit");
        }
      }
    })();

    const outcome = await streamAnswer(
      { api: ctx.api, fastApi: ctx.fastApi, pacer: deps.pacer, drafts: deps.drafts, log: ctx.log },
      target,
      events,
      {
        signal,
        header: q.header,
        cutNote: ctx.t("inline-answer-cut"),
        errorNote: (err) => (err instanceof LimitRefusalError ? refusalText(ctx, err.refusal) : ctx.t(modelErrorNoteKey(err))),
        // Superseded by an edit of the question: its answer replaces this one, a "stopped" note would only flash.
        abortNote: (reason) =>
          reason instanceof AnswerSupersededError ? undefined : ctx.t(reason instanceof AnswerStoppedError ? "answer-stopped" : "error-aborted"),
        replace: replaces?.messageIds,
        canStop: tracked !== undefined,
        onDraft: (draftId) => tracked?.draftIds.add(draftId),
        streamingMarkup: tracked ? stopButton(ctx, tracked.questionMessageId) : undefined,
        finalMarkup: finalMarkup(ctx, tracked, key),
      },
    );
    // Stopped (or cut by shutdown) in the middle of a model call: the server reported no usage, so what was used is
    // counted here, and that settles the call's hold.
    if (outcome.aborted && permit && current.started) {
      const used: ModelUsage = { model: callModel, promptTokens: current.promptTokens, completionTokens: countTokens(current.text, encoding), cachedTokens: 0 };
      usage.push(used);
      const ended = endedCall();
      usageWritten = usageWritten.then(() => recordUsage(ctx, [used])).then(() => ended?.release());
    }
    await usageWritten;
    if (outcome.error instanceof LimitRefusalError) {
      ctx.log.info({ refusal: outcome.error.refusal, sender: senderOf(ctx) }, "model call refused by a limit");
    } else if (outcome.error && !outcome.aborted && !(outcome.error instanceof ModelError && outcome.error.kind === "length")) {
      ctx.log.warn({ err: outcome.error, ...(inline ? {} : { chatId: target.chatId }) }, "model call failed");
    }
    // The question and whatever answer arrived are kept; a failed call with no answer leaves history untouched,
    // so asking again does not repeat the question.
    const answer = outcome.text.trim();
    // A stopped answer stays, marked: a follow-up ("go on", "why did you stop") sees how far it got.
    const stopped = outcome.aborted && signal.reason instanceof AnswerStoppedError;
    const answerTurn: HistoryTurn = {
      role: "assistant",
      content: answer,
      tokens: messageTokens(stopped ? answer + STOPPED_MARK : answer, encoding),
      at: Date.now(),
      messageIds: outcome.messageIds,
      ...(stopped ? { stopped: true } : {}),
    };
    const exchange: HistoryTurn[] = answer ? [{ ...userTurn, ...context?.turn }, answerTurn] : [];
    if (key === undefined) {
      // Inline and guest answers keep no history.
    } else if (q.regenerates) {
      // The new answer replaces the old exchange; nothing arrived means the old answer still stands.
      if (exchange.length > 0 && !(await deps.history.replaceLast(key, q.regenerates.messageId!, ...exchange))) {
        await deps.history.append(key, ...exchange);
      }
    } else if (replaces && (answer || outcome.messageIds.length > 0)) {
      // History follows the chat: what replaced the old answer's messages replaces its exchange (a note alone
      // removes it: the question it answered is gone). Nothing shown means the old answer still stands.
      const replaced = await deps.history.replaceLast(key, replaces.questionMessageId, ...exchange);
      if (!replaced && exchange.length > 0) await deps.history.append(key, ...exchange);
    } else if (exchange.length > 0) {
      await deps.history.append(key, ...exchange);
    }
    // The Regenerate button moves to the newest answer: the previous last answer loses it.
    if (key !== undefined && tracked && answer && outcome.messageIds.length > 0 && !isInlineTarget(target)) {
      const previous = HistoryStore.lastExchange(stored)?.answer?.messageIds?.at(-1);
      if (previous !== undefined && !outcome.messageIds.includes(previous)) await removeKeyboard(ctx, target.chatId, previous);
    }
    return { ...outcome, usage };
  } finally {
    signal.clear();
    // A call that ended without usage (failed, aborted, or a server that does not report it) releases its hold.
    await usageWritten;
    await permit?.release();
  }
}

/**
 * answerQuestion for the question in this update's message (or edited message): registered in `deps.answers` while
 * it runs, so an edit of the question or a stop can abort it (answerQuestion registers every such answer).
 */
export function answerTracked(ctx: BotContext, q: Omit<Question, "signal">): Promise<AnswerResult> {
  return answerQuestion(ctx, q);
}

/** The Regenerate button under a tracked answer that goes into history (pressable by its asker only). */
function finalMarkup(ctx: BotContext, tracked: AnswerInFlight | undefined, key: string | undefined): InlineKeyboardMarkup | undefined {
  return tracked && key !== undefined ? regenerateButton(ctx, tracked.questionMessageId) : undefined;
}

/** Takes the keyboard off one of the bot's messages; one that has none (or is gone) is left as it is. */
async function removeKeyboard(ctx: BotContext, chatId: number, messageId: number): Promise<void> {
  await paced(ctx, () => ctx.api.editMessageReplyMarkup(chatId, messageId)).catch((err: unknown) =>
    ctx.log.debug({ err, messageId }, "keyboard of the previous answer not removed"),
  );
}

/** The exchange a joined question takes over: its comment's, when that is the last one answered (else none). */
function supersededExchange(ctx: BotContext, stored: readonly HistoryTurn[]): Question["replaces"] {
  const comment = ctx.joined?.supersedes;
  if (!comment) return undefined;
  const last = HistoryStore.lastExchange(stored);
  if (last?.question.messageId !== comment.message_id) return undefined;
  return { questionMessageId: comment.message_id, messageIds: last.answer?.messageIds ?? [] };
}

function withName(turn: HistoryTurn): string {
  return turn.name ? `${turn.name}: ${turn.content}` : turn.content;
}

function toMessage(turn: HistoryTurn, parts: ChatCompletionContentPart[] = []): ChatCompletionMessageParam {
  if (turn.role === "assistant") return { role: "assistant", content: turn.stopped ? turn.content + STOPPED_MARK : turn.content };
  if (parts.length > 0) return { role: "user", content: [{ type: "text", text: withName(turn) }, ...parts] };
  return { role: "user", content: withName(turn) };
}

/**
 * The history's pictures as image parts, newest first while the request may still carry them; a picture that does
 * not fit or can no longer be fetched is left out (its turn's text stays).
 */
async function historyPictures(
  ctx: BotContext,
  past: readonly HistoryTurn[],
  allowance: PictureAllowance,
  signal: AbortSignal,
): Promise<Map<HistoryTurn, ChatCompletionContentPart[]>> {
  const parts = new Map<HistoryTurn, ChatCompletionContentPart[]>();
  for (const turn of [...past].reverse()) {
    const images = turn.role === "user" ? (turn.images ?? []) : [];
    const found: ChatCompletionContentPart[] = [];
    for (const image of [...images].reverse()) {
      const fetched = await fetchPicture(ctx, image, allowance, signal);
      if ("part" in fetched) found.unshift(fetched.part);
      else ctx.log.debug({ fileId: image.fileId, failure: fetched.failure }, "history picture left out");
    }
    if (found.length > 0) parts.set(turn, found);
  }
  return parts;
}
