/**
 * The answers being written right now, by the question they answer (chat + the question's message id), each with
 * its own AbortController: the one signal of that answer (`Question.signal`, combined with the bot's shutdown in
 * answerQuestion). Whatever must stop an answer from outside its own update goes through here:
 * - an edit of the question (bot/middleware/edit-interrupt.ts) aborts it with AnswerSupersededError, before the
 *   chat's queue, so the edit is not stuck behind the very answer it makes obsolete;
 * - a stop (the draft's stop button, the Stop button under a streaming message, /stop) aborts it with
 *   AnswerStoppedError, outside the queue too (bot/middleware/stop-interrupt.ts): found by the same key, by the
 *   draft it is showing, or by chat.
 *
 * In-process only, like the per-chat queue it complements: an answer runs in the process that received its update.
 */

/** The reason an answer is aborted when its question was edited: the edit's answer replaces it (no "stopped" note). */
export class AnswerSupersededError extends Error {
  override readonly name = "AnswerSupersededError";
  constructor() {
    super("the question was edited");
  }
}

/**
 * The reason an answer is aborted when someone stopped it: the text so far becomes the final message with a
 * "stopped" note, and history keeps it marked as stopped.
 */
export class AnswerStoppedError extends Error {
  override readonly name = "AnswerStoppedError";
  constructor() {
    super("the answer was stopped");
  }
}

/** Which answer: the chat and the message id of the question it answers. */
export interface AnswerKey {
  chatId: number;
  questionMessageId: number;
}

/** What is known of an answer in flight. */
export interface AnswerInFlight extends AnswerKey {
  /** Who asked (only they can edit the question). */
  askerId: number | undefined;
  /** The question as the answer is answering it. */
  question: string;
  /** Aborts when abort() is called for this answer; the answer's own cancellation. */
  readonly signal: AbortSignal;
  /** The drafts showing this answer (private chats): a `stopped_message_generation` names one of them. */
  readonly draftIds: Set<number>;
}

interface Entry {
  answer: AnswerInFlight;
  controller: AbortController;
}

export class AnswersInFlight {
  readonly #answers = new Map<string, Entry>();

  /**
   * Runs `answer` registered under its key, handing it the signal it must pass on (as `Question.signal`); the entry
   * is removed when it settles. A second answer under the same key (the edit's, after the first was aborted)
   * takes the key over.
   */
  async run<T>(info: Omit<AnswerInFlight, "signal" | "draftIds">, answer: (signal: AbortSignal, self: AnswerInFlight) => Promise<T>): Promise<T> {
    const key = keyOf(info);
    const controller = new AbortController();
    const entry: Entry = { answer: { ...info, signal: controller.signal, draftIds: new Set() }, controller };
    this.#answers.set(key, entry);
    try {
      return await answer(controller.signal, entry.answer);
    } finally {
      if (this.#answers.get(key) === entry) this.#answers.delete(key);
    }
  }

  /** The answer in flight to this question, if any. */
  find(key: AnswerKey): AnswerInFlight | undefined {
    return this.#answers.get(keyOf(key))?.answer;
  }

  /** The answer in flight that shows draft `draftId` in this chat, if any (a finished one is gone). */
  findByDraft(chatId: number, draftId: number): AnswerInFlight | undefined {
    for (const { answer } of this.#answers.values()) {
      if (answer.chatId === chatId && answer.draftIds.has(draftId)) return answer;
    }
    return undefined;
  }

  /** The answers in flight in this chat (every topic and member). */
  inChat(chatId: number): AnswerInFlight[] {
    return [...this.#answers.values()].map((e) => e.answer).filter((a) => a.chatId === chatId);
  }

  /** Aborts the answer in flight to this question with `reason`; false when there is none (already done). */
  abort(key: AnswerKey, reason: Error): boolean {
    const entry = this.#answers.get(keyOf(key));
    if (!entry || entry.controller.signal.aborted) return false;
    entry.controller.abort(reason);
    return true;
  }

  /** Number of answers in flight. */
  get size(): number {
    return this.#answers.size;
  }
}

const keyOf = (key: AnswerKey): string => `${key.chatId}:${key.questionMessageId}`;
