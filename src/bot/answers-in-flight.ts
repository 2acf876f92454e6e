/**
 * The answers being written right now, by the question they answer (chat + the question's message id), each with
 * its own AbortController: the one signal of that answer (`Question.signal`, combined with the bot's shutdown in
 * answerQuestion). Whatever must stop an answer from outside its own update goes through here:
 * - an edit of the question (bot/middleware/edit-interrupt.ts) aborts it with AnswerSupersededError, before the
 *   chat's queue, so the edit is not stuck behind the very answer it makes obsolete;
 * - a stop button (a later feature) would abort it with its own reason, found by the same key.
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
  async run<T>(info: Omit<AnswerInFlight, "signal">, answer: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const key = keyOf(info);
    const controller = new AbortController();
    const entry: Entry = { answer: { ...info, signal: controller.signal }, controller };
    this.#answers.set(key, entry);
    try {
      return await answer(controller.signal);
    } finally {
      if (this.#answers.get(key) === entry) this.#answers.delete(key);
    }
  }

  /** The answer in flight to this question, if any. */
  find(key: AnswerKey): AnswerInFlight | undefined {
    return this.#answers.get(keyOf(key))?.answer;
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
