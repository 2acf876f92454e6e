/**
 * `npm run bench -- markdown`: the cost of turning an answer's Markdown into Telegram entities (issue 10 targets).
 *
 * - A realistic 4,000-character answer (made of the streaming corpus in test/fixtures/markdown) converted as a final
 *   text: median of warmed runs [target ≤ 2 ms].
 * - The conversion CPU of one streamed 1,200-character answer: every prefix a draft would show, at the bench's SSE
 *   chunk size (4 characters: the upper bound) and at one draft every ~100 characters (a draft every 300 ms at
 *   ~330 characters a second), plus the final text.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FormattedText } from "../src/telegram/formatted-text.js";
import { markdownToEntities } from "../src/telegram/markdown.js";

type Convert = (markdown: string, opts?: { partial?: boolean }) => FormattedText;

const FIXTURES = join(import.meta.dirname, "../test/fixtures/markdown");

/** Corpus answers joined (each one whole) until `length`, cut at a line end. */
export function realisticAnswer(length: number): string {
  const parts = readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => readFileSync(join(FIXTURES, f), "utf8"));
  let text = "";
  for (let i = 0; text.length < length; i++) text += `${parts[i % parts.length]}\n`;
  return text.slice(0, text.lastIndexOf("\n", length) + 1);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/**
 * Median ms of `run`, after warm-up. Each run gets its own text (a numbered first line), so that no run reuses what
 * an earlier one rendered: every answer is new to the bot.
 */
function time(run: (unique: string) => void, rounds: number): number {
  for (let i = 0; i < Math.max(20, rounds / 5); i++) run(`Warm-up ${i}\n\n`);
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const unique = `Answer ${i}\n\n`;
    const t0 = performance.now();
    run(unique);
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Every draft of a streamed answer (a prefix each `step` characters, partial) and its final text. */
function streamed(convert: Convert, answer: string, step: number): (unique: string) => void {
  return (unique) => {
    const text = unique + answer;
    for (let k = unique.length + step; k < text.length; k += step) convert(text.slice(0, k), { partial: true });
    convert(text);
  };
}

/** The figures for one implementation of markdownToEntities (the bench passes the bot's). */
export function measureMarkdown(convert: Convert): { final4000: number; stream4: number; stream100: number } {
  const long = realisticAnswer(4000);
  const answer = realisticAnswer(1200);
  return {
    final4000: time((unique) => convert(unique + long), 400),
    stream4: time(streamed(convert, answer, 4), 40),
    stream100: time(streamed(convert, answer, 100), 200),
  };
}

export function markdownBench(): string[] {
  const r = measureMarkdown(markdownToEntities);
  const [long, answer] = [realisticAnswer(4000).length, realisticAnswer(1200).length];
  const ok = (v: number, limit: number) => (v <= limit ? "ok" : "MISSED");
  return [
    `Markdown → entities (markdown-it; answers made of the streaming corpus)`,
    `  ${long}-character answer, final text: median ${r.final4000.toFixed(3)} ms  [target ≤ 2 ms: ${ok(r.final4000, 2)}]`,
    `  ${answer}-character answer streamed, a draft every 4 characters (${Math.ceil(answer / 4) - 1}) + final: ${r.stream4.toFixed(1)} ms`,
    `  ${answer}-character answer streamed, a draft every 100 characters (${Math.ceil(answer / 100) - 1}) + final: ${r.stream100.toFixed(2)} ms`,
  ];
}
