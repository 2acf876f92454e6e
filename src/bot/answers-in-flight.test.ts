import { describe, expect, it } from "vitest";
import { AnswersInFlight, AnswerSupersededError } from "./answers-in-flight.js";

const key = { chatId: 7, questionMessageId: 3 };
const info = { ...key, askerId: 11, question: "why?" };

describe("AnswersInFlight", () => {
  it("hands each answer its own signal, finds it by question, and forgets it when it ends", async () => {
    const answers = new AnswersInFlight();
    let seen: AbortSignal | undefined;
    const result = await answers.run(info, (signal) => {
      seen = signal;
      expect(answers.find(key)).toMatchObject({ askerId: 11, question: "why?", signal });
      expect(answers.find({ chatId: 7, questionMessageId: 4 })).toBeUndefined();
      expect(answers.size).toBe(1);
      return Promise.resolve("done");
    });
    expect(result).toBe("done");
    expect(seen?.aborted).toBe(false);
    expect(answers.size).toBe(0);
    expect(answers.abort(key, new AnswerSupersededError())).toBe(false);
  });

  it("aborts the answer in flight with the reason given, once", async () => {
    const answers = new AnswersInFlight();
    const running = answers.run(
      info,
      (signal) => new Promise<unknown>((resolve) => signal.addEventListener("abort", () => resolve(signal.reason), { once: true })),
    );
    expect(answers.abort(key, new AnswerSupersededError())).toBe(true);
    expect(answers.abort(key, new Error("again"))).toBe(false);
    expect(await running).toBeInstanceOf(AnswerSupersededError);
    expect(answers.size).toBe(0);
  });

  it("lets a later answer to the same question take the key over; the earlier one's end does not remove it", async () => {
    const answers = new AnswersInFlight();
    let finishFirst!: () => void;
    const first = answers.run(info, () => new Promise<void>((r) => (finishFirst = r)));
    let finishSecond!: () => void;
    const second = answers.run({ ...info, question: "why not?" }, () => new Promise<void>((r) => (finishSecond = r)));
    finishFirst();
    await first;
    expect(answers.find(key)?.question).toBe("why not?");
    finishSecond();
    await second;
    expect(answers.size).toBe(0);
  });
});
