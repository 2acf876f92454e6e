/** What the flood sections share: the answers the model streams, and reading them back. */
import type { BotApiServer } from "../test/servers/bot-api.js";
import type { ChatRequestBody } from "../test/servers/openai.js";

/** ~300 tokens of realistic Markdown (about 4 characters a token). */
export function answerText(seed: number): string {
  const para = `Answer ${seed}: **streaming** keeps people reading while the model writes, and *pacing* keeps Telegram happy.`;
  const lines = [`## Part ${seed}`, para, "", "- first point about drafts", "- second point about edits", ""];
  lines.push("```ts", `const answer${seed} = await stream(model, { tokens: 300 });`, "console.log(answer);", "```", "");
  while (lines.join("\n").length < 1200) lines.push(para, "");
  return lines.join("\n").slice(0, 1200);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The chat a request belongs to: the bench writes "chat <id>:" into each question. */
export function chatOf(body: ChatRequestBody): number {
  const last = body.messages.at(-1);
  const content = last?.content ?? "";
  return Number(/chat (-?\d+):/.exec(typeof content === "string" ? content : JSON.stringify(content))?.[1] ?? NaN);
}

/** The last 30 characters of a text, ignoring Markdown marks and whitespace. */
export const plainTail = (text: string) => text.replace(/[`*#\s-]/g, "").slice(-30);

export function stats(values: number[]): { median: number; p95: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { median: at(0.5), p95: at(0.95), max: s.at(-1) ?? NaN };
}

/**
 * The flood's questions, all sent at once: each private chat and group (a member each) gets a new chat and asks
 * "chat <id>: go" (`/ask` in groups); `texts` gets the answer each chat will be streamed (answerText).
 */
export function sendFloodQuestions(telegram: BotApiServer, privates: number[], groups: number[], texts: Map<number, string>): void {
  for (const id of privates) {
    const user = { id, first_name: "P", language_code: "en" };
    telegram.addUser(user);
    telegram.addChat({ id, type: "private", first_name: "P" });
    texts.set(id, answerText(id));
    telegram.userSends({ chat: id, from: user, text: `chat ${id}: go` });
  }
  for (const id of groups) {
    const user = { id: -id + 1, first_name: "G", language_code: "en" };
    telegram.addUser(user);
    telegram.addChat({ id, type: "supergroup", title: "G" });
    texts.set(id, answerText(id));
    telegram.userSends({ chat: id, from: user, text: `/ask chat ${id}: go` });
  }
}
