/**
 * Answering a question: history in, model out, streamed into the chat, history updated. Questions, photos and
 * tool-backed commands all come through here, so they share limits, notes and memory.
 */
import { anySignal } from "any-signal";
import type { ChatCompletionMessageParam, ChatCompletionContentPart } from "openai/resources/chat/completions";
import type { BotContext } from "./context.js";
import { admitModelCall, assertModelCallAllowed, refusalText } from "./admission.js";
import { modelErrorNoteKey } from "./model-error-notes.js";
import { recordUsage, type ModelUsage } from "./record-usage.js";
import { historyKeyOf, targetOf } from "./target.js";
import { ModelError } from "../ai/errors.js";
import { contextWindowForModel } from "../ai/models.js";
import { messageTokens, REPLY_PRIMING_TOKENS } from "../ai/tokens.js";
import { countTurnTokens } from "../ai/turn-tokens.js";
import type { Tool } from "../ai/tools/tool.js";
import { LimitRefusalError } from "../services/limits.js";
import { chosenModel } from "../services/models.js";
import { HistoryStore, type HistoryTurn } from "../storage/history.js";
import { streamAnswer, type AnswerEvent, type StreamOutcome } from "../telegram/answer-stream.js";

export interface Question {
  text: string;
  /** Extra content for the new user message only (e.g. an image as a data URL); history keeps `turn` instead. */
  parts?: ChatCompletionContentPart[];
  /** Overrides the user turn stored in history (e.g. to carry image references). */
  turn?: Partial<HistoryTurn>;
  model?: string;
  tools?: Tool[];
  toolChoice?: "auto" | "required";
  /** Turns the history's image references into content parts (downloads by file_id); text-only when absent. */
  resolveImages?: (turn: HistoryTurn, signal: AbortSignal) => Promise<ChatCompletionContentPart[]>;
  /** The answer's own cancellation (e.g. a stop button); the bot's shutdown cancels it too. */
  signal?: AbortSignal;
}

export interface AnswerResult extends StreamOutcome {
  usage: ModelUsage[];
  /** True when a rate limit or budget refused the call (the user was told; nothing was spent). */
  limited?: boolean;
}

export async function answerQuestion(ctx: BotContext, q: Question): Promise<AnswerResult> {
  const { deps } = ctx;
  const { config, encoding } = deps;
  const settings = await ctx.chatSettings();
  // A model the operator no longer allows (ALLOWED_MODELS changed since /settings) falls back to the configured one.
  const chosen = chosenModel(config, settings);
  const model = q.model ?? chosen ?? config.openai.model;
  const target = targetOf(ctx);
  const key = historyKeyOf(ctx, settings);
  const group = target.chatType !== "private";
  // The one signal of this answer: its own cancellation or the bot's shutdown, whichever comes first.
  const signal = anySignal([deps.shutdown, q.signal]);

  try {
    const turn = {
      role: "user" as const,
      content: q.text,
      at: Date.now(),
      ...(group && ctx.from ? { name: ctx.from.first_name } : {}),
      ...q.turn,
    };
    // Counted once, here, with its images and the sender's name; stored with the turn and never counted again.
    const userTurn: HistoryTurn = { ...turn, tokens: countTurnTokens(turn, encoding) };
    const system = settings.systemPrompt ?? config.systemPrompt;
    const systemTokens = messageTokens(system, encoding);
    const room = Math.min(
      config.historyTokenBudget,
      contextWindowForModel(model) - config.openai.maxAnswerTokens - systemTokens - userTurn.tokens - REPLY_PRIMING_TOKENS,
    );
    const past = HistoryStore.fitToBudget(await deps.history.load(key), Math.max(0, room));
    // Earlier pictures go along when the question can resolve them, and then only the vision model can read the
    // request (OPENAI_MODEL may be text-only when OPENAI_VISION_MODEL is set). An explicit or per-chat model wins.
    const seesImages = q.resolveImages !== undefined && past.some((turn) => (turn.images?.length ?? 0) > 0);
    const callModel = q.model ?? chosen ?? (seesImages ? config.openai.visionModel : model);

    // Limits before anything is spent: the request's counted tokens plus the answer's maximum must fit the budgets.
    const promptTokens = systemTokens + past.reduce((n, turn) => n + turn.tokens, 0) + userTurn.tokens + REPLY_PRIMING_TOKENS;
    const estimate = { model: callModel, promptTokens, maxAnswerTokens: config.openai.maxAnswerTokens };
    if (!(await admitModelCall(ctx, estimate))) {
      return { text: "", messageIds: [], aborted: false, usage: [], limited: true };
    }

    const messages: ChatCompletionMessageParam[] = [{ role: "system", content: system }];
    for (const turn of past) messages.push(await toMessage(turn, q.resolveImages, signal));
    messages.push(
      q.parts && q.parts.length > 0
        ? { role: "user", content: [{ type: "text", text: withName(userTurn) }, ...q.parts] }
        : { role: "user", content: withName(userTurn) },
    );

    const usage: ModelUsage[] = [];
    // Usage is written as each model call ends, off the stream's path (the final text must not wait for the store);
    // the budget check before a tool round waits for it, so that round sees what this answer has spent so far.
    let usageWritten = Promise.resolve();
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
        // Every further model call of a tool loop is held to the same limits as the first.
        beforeCall: async () => {
          await usageWritten;
          await assertModelCallAllowed(ctx, estimate);
        },
      })) {
        if (event.type === "text" || event.type === "status") yield event;
        else if (event.type === "usage") {
          const { type: _, ...used } = event;
          usage.push(used);
          usageWritten = usageWritten.then(() => recordUsage(ctx, [used]));
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
        errorNote: (err) => (err instanceof LimitRefusalError ? refusalText(ctx, err.refusal) : ctx.t(modelErrorNoteKey(err))),
        abortNote: ctx.t("error-aborted"),
      },
    );
    await usageWritten;
    if (outcome.error instanceof LimitRefusalError) {
      ctx.log.info({ refusal: outcome.error.refusal, userId: ctx.from?.id }, "model call refused by a limit");
    } else if (outcome.error && !(outcome.error instanceof ModelError && outcome.error.kind === "length")) {
      ctx.log.warn({ err: outcome.error, chatId: target.chatId }, "model call failed");
    }
    // The question and whatever answer arrived are kept; a failed call with no answer leaves history untouched,
    // so asking again does not repeat the question.
    const answer = outcome.text.trim();
    if (answer) {
      await deps.history.append(key, userTurn, {
        role: "assistant",
        content: answer,
        tokens: messageTokens(answer, encoding),
        at: Date.now(),
      });
    }
    return { ...outcome, usage };
  } finally {
    signal.clear();
  }
}

function withName(turn: HistoryTurn): string {
  return turn.name ? `${turn.name}: ${turn.content}` : turn.content;
}

async function toMessage(
  turn: HistoryTurn,
  resolveImages: Question["resolveImages"],
  signal: AbortSignal,
): Promise<ChatCompletionMessageParam> {
  if (turn.role === "assistant") return { role: "assistant", content: turn.content };
  if (turn.images?.length && resolveImages) {
    const parts = await resolveImages(turn, signal).catch(() => [] as ChatCompletionContentPart[]);
    if (parts.length > 0) return { role: "user", content: [{ type: "text", text: withName(turn) }, ...parts] };
  }
  return { role: "user", content: withName(turn) };
}
