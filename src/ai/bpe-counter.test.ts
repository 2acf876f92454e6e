import { afterAll, describe, expect, it } from "vitest";
import { Tiktoken } from "js-tiktoken/lite";
import o200kRanks from "js-tiktoken/ranks/o200k_base";
import cl100kRanks from "js-tiktoken/ranks/cl100k_base";
import r50kRanks from "js-tiktoken/ranks/r50k_base";
import o200k from "gpt-tokenizer/encoding/o200k_base";
import cl100k from "gpt-tokenizer/encoding/cl100k_base";
import r50k from "gpt-tokenizer/encoding/r50k_base";
import { get_encoding as getWasmEncoding } from "tiktoken";
import { BpeCounter } from "./bpe-counter.js";
import { BpeTable, type BpeSource } from "./bpe-table.js";
import { rng as prng } from "../../test/helpers/random.js";

type Name = "o200k_base" | "cl100k_base" | "r50k_base";
const gpt = { o200k_base: o200k, cl100k_base: cl100k, r50k_base: r50k };
const reference: Record<Name, Tiktoken> = {
  o200k_base: new Tiktoken(o200kRanks),
  cl100k_base: new Tiktoken(cl100kRanks),
  r50k_base: new Tiktoken(r50kRanks),
};
const tablesOf = (name: Name) => BpeTable.fromSource(name, (gpt[name] as unknown as { bytePairEncodingCoreProcessor: BpeSource }).bytePairEncodingCoreProcessor);
// A tiny cache so eviction and the young/old generations are exercised too.
const counters: Record<Name, BpeCounter> = {
  o200k_base: new BpeCounter(tablesOf("o200k_base"), { cacheSize: 64 }),
  cl100k_base: new BpeCounter(tablesOf("cl100k_base"), { cacheSize: 64 }),
  r50k_base: new BpeCounter(tablesOf("r50k_base"), { cacheSize: 64 }),
};
const NAMES = Object.keys(counters) as Name[];

const ENGLISH = "the quick brown fox jumps over lazy dog I'm don't they'll HTTP JSONParser camelCase snake_case 3.14 1234567 e.g. U.S.A".split(" ");
const CHINESE = "看了 山和海 也看了 人山和人海 我们 今天 天气 怎么样 东京 北京 人工智能 令牌 計算 機器 こんにちは 안녕".split(" ");
const OTHER = ["，", "。", "！", "？", "\n", "\n\n", "\r\n", "\t", "  ", " ", "😀", "👨‍👩‍👧", "🇯🇵", "€", "<|endoftext|>", "```ts", "{\"a\":1}", "ñandú", "Привет", "\u0301", "\u00a0"];

function randomText(next: () => number, maxParts = 30): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  let out = "";
  const parts = 1 + Math.floor(next() * maxParts);
  for (let i = 0; i < parts; i++) {
    const r = next();
    if (r < 0.35) out += (next() < 0.6 ? " " : "") + pick(ENGLISH);
    else if (r < 0.7) out += pick(CHINESE);
    else if (r < 0.9) out += pick(OTHER);
    else {
      // Any code point, lone surrogates included (they must count as U+FFFD does).
      const cp = Math.floor(next() * 0x2ffff);
      out += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
    }
  }
  return out;
}

describe("BpeCounter", () => {
  const wasm = { o200k_base: getWasmEncoding("o200k_base"), cl100k_base: getWasmEncoding("cl100k_base"), r50k_base: getWasmEncoding("r50k_base") };
  afterAll(() => Object.values(wasm).forEach((e) => e.free()));

  it("counts the notes' example as the issue says", () => {
    expect(counters.o200k_base.count("看了山和海，也看了人山和人海。")).toBe(14);
    expect(counters.r50k_base.count("看了山和海，也看了人山和人海。")).toBe(32);
    expect(counters.o200k_base.count("")).toBe(0);
  });

  it("encodes exactly like js-tiktoken on 3000 random English, Chinese and mixed strings per encoding", () => {
    const next = prng(424242);
    let compared = 0;
    for (let i = 0; i < 3000; i++) {
      const text = randomText(next);
      for (const name of NAMES) {
        const expected = reference[name].encode(text, [], []);
        const tokens = counters[name].encode(text);
        if (tokens.length !== expected.length || tokens.some((t, k) => t !== expected[k])) {
          throw new Error(`${name} encodes ${JSON.stringify(text)} as ${tokens.join(",")}, expected ${expected.join(",")}`);
        }
        expect(counters[name].count(text)).toBe(expected.length);
        compared++;
      }
    }
    expect(compared).toBe(9000);
  });

  it("agrees with gpt-tokenizer's own count (except after U+FEFF, where gpt-tokenizer is off)", () => {
    const next = prng(99);
    let compared = 0;
    for (let i = 0; i < 500; i++) {
      const text = randomText(next, 60);
      if (text.includes("\ufeff")) continue;
      expect(counters.o200k_base.count(text)).toBe(o200k.countTokens(text, { disallowedSpecial: new Set() }));
      compared++;
    }
    expect(compared).toBeGreaterThan(400);
    // gpt-tokenizer turns merged bytes back into text with a TextDecoder that drops a leading BOM, so it misses
    // the vocabulary entries that start with one. tiktoken (WASM, the reference implementation) agrees with us.
    const bom = "\ufefflazy我们";
    expect(counters.o200k_base.count(bom)).toBe(wasm.o200k_base.encode_ordinary(bom).length);
  });

  it("merges long pieces (the heap path) exactly", () => {
    const next = prng(7);
    for (let i = 0; i < 20; i++) {
      // Chinese without punctuation is a single pre-token: hundreds to thousands of bytes merged at once.
      let text = "";
      const words = 30 + Math.floor(next() * 400);
      for (let w = 0; w < words; w++) text += CHINESE[Math.floor(next() * CHINESE.length)];
      for (const name of ["o200k_base", "r50k_base"] as const) {
        // tiktoken's WASM build as the reference here: js-tiktoken's merge is quadratic on pieces this long.
        expect(counters[name].encode(text)).toEqual([...wasm[name].encode_ordinary(text)]);
      }
    }
    const long = "a".repeat(5000);
    expect(counters.cl100k_base.count(long)).toBe(wasm.cl100k_base.encode_ordinary(long).length);
  });

  it("gives the same counts from its cache as from a fresh merge", () => {
    const text = "看了山和海，也看了人山和人海。 Hello, 世界! ".repeat(50);
    const first = counters.o200k_base.count(text);
    expect(counters.o200k_base.count(text)).toBe(first);
    counters.o200k_base.clearCache();
    expect(counters.o200k_base.count(text)).toBe(first);
    expect(first).toBe(reference.o200k_base.encode(text, [], []).length);
  });
});
