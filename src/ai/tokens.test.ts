import { beforeAll, describe, expect, it } from "vitest";
import { Tiktoken, getEncodingNameForModel, type TiktokenModel } from "js-tiktoken/lite";
import o200kRanks from "js-tiktoken/ranks/o200k_base";
import cl100kRanks from "js-tiktoken/ranks/cl100k_base";
import r50kRanks from "js-tiktoken/ranks/r50k_base";
import { modelToEncodingMap } from "gpt-tokenizer/mapping";
import {
  REPLY_PRIMING_TOKENS,
  TOKENS_PER_MESSAGE,
  countTokens,
  decodeTokens,
  encode,
  getTokenizer,
  isEncodingLoaded,
  loadEncoding,
  loadEncodingForModel,
  messageTokens,
  tokenPieces,
} from "./tokens.js";
import { contextWindowForModel, encodingForModel, type EncodingName } from "./models.js";
import { rng as prng } from "../../test/helpers/random.js";

const CHINESE = "看了山和海，也看了人山和人海。";

const FRAGMENTS = [
  "the", " quick", " brown fox", " jumps", "Hello, world!", "don't", "I'm", " 12345", "3.14159", "e.g.", "OpenAI's",
  "你好", "世界", "人工智能", "。", "，", "的", "模型", "令牌", "計算", "こんにちは", "안녕하세요", "Привет", "مرحبا", "ñandú",
  "😀", "👍🏽", "👨‍👩‍👧", "🇯🇵", "🤖", "✨", "€", "™",
  "const x = () => {}", "for (let i = 0; i < n; i++) {", "def f(a, b):\n    return a + b", "<div class=\"x\">", "SELECT * FROM t;",
  "$ npm ci && npm test", "```ts\n", "\t", "  ", "    ", "\n", "\n\n", "\r\n", " ", "\u00a0", "\u200b", "\\n", "{\"a\":1}",
  "https://example.com/a?b=c", "#hashtag", "@user", "<|endoftext|>", "<|im_start|>",
];

function randomText(next: () => number): string {
  const parts: string[] = [];
  const count = 1 + Math.floor(next() * 24);
  for (let i = 0; i < count; i++) {
    const roll = next();
    if (roll < 0.8) {
      parts.push(FRAGMENTS[Math.floor(next() * FRAGMENTS.length)] ?? "");
    } else if (roll < 0.9) {
      // a random code point from the BMP or an astral plane (no lone surrogates)
      let cp = Math.floor(next() * 0x2ffff);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x4e00 + (cp % 0x5000);
      parts.push(String.fromCodePoint(cp));
    } else {
      parts.push(" ".repeat(1 + Math.floor(next() * 6)));
    }
  }
  return parts.join("");
}

const tiktoken: Record<"o200k_base" | "cl100k_base" | "r50k_base", Tiktoken> = {
  o200k_base: new Tiktoken(o200kRanks),
  cl100k_base: new Tiktoken(cl100kRanks),
  r50k_base: new Tiktoken(r50kRanks),
};
/** js-tiktoken with special tokens treated as plain text, as the API treats user content. */
function referenceEncode(text: string, encoding: keyof typeof tiktoken): number[] {
  return tiktoken[encoding].encode(text, [], []);
}

describe("token counting (gpt-tokenizer)", () => {
  beforeAll(async () => {
    await Promise.all((["o200k_base", "cl100k_base", "r50k_base"] as const).map((name) => loadEncoding(name)));
  });

  it("counts the classic examples", () => {
    expect(countTokens(CHINESE, "o200k_base")).toBe(14);
    expect(countTokens(CHINESE, "r50k_base")).toBe(32);
    expect(countTokens("hello world", "o200k_base")).toBe(2);
    expect(countTokens("hello world", "cl100k_base")).toBe(2);
    expect(countTokens("", "o200k_base")).toBe(0);
    expect(encode("hello world", "o200k_base")).toEqual(referenceEncode("hello world", "o200k_base"));
  });

  it("loads an encoding once and shares concurrent loads", async () => {
    const [a, b] = await Promise.all([loadEncoding("o200k_base"), loadEncoding("o200k_base")]);
    expect(a).toBe(b);
    expect(getTokenizer("o200k_base")).toBe(a);
    expect(isEncodingLoaded("o200k_base")).toBe(true);
    const forModel = await loadEncodingForModel("gpt-4o-mini");
    expect(forModel).toBe(a);
    expect(forModel.encoding).toBe("o200k_base");
  });

  it("loads synchronously when nobody awaited loadEncoding", () => {
    expect(isEncodingLoaded("p50k_base")).toBe(false);
    const count = countTokens("def f(a, b):\n    return a + b", "p50k_base");
    expect(isEncodingLoaded("p50k_base")).toBe(true);
    expect(count).toBe(encode("def f(a, b):\n    return a + b", "p50k_base").length);
    expect(count).toBeGreaterThan(0);
  });

  it("rejects an unknown encoding name with a clear error", async () => {
    await expect(loadEncoding("gpt5_base" as EncodingName)).rejects.toThrow(/unknown encoding "gpt5_base"/);
    expect(() => countTokens("x", "gpt5_base" as EncodingName)).toThrow(/unknown encoding/);
  });

  it("counts special-token text as plain text instead of throwing", () => {
    const text = "a <|endoftext|> b <|im_start|>";
    expect(countTokens(text, "o200k_base")).toBe(referenceEncode(text, "o200k_base").length);
    expect(encode(text, "cl100k_base")).toEqual(referenceEncode(text, "cl100k_base"));
    expect(decodeTokens(encode(text, "o200k_base"), "o200k_base")).toBe(text);
  });

  it("agrees with js-tiktoken on 400 random mixed strings", () => {
    const next = prng(20240611);
    let compared = 0;
    for (let i = 0; i < 400; i++) {
      const text = randomText(next);
      for (const encoding of ["o200k_base", "cl100k_base", "r50k_base"] as const) {
        const expected = referenceEncode(text, encoding);
        const actual = encode(text, encoding);
        if (actual.length !== expected.length || actual.some((t, k) => t !== expected[k])) {
          throw new Error(`encode mismatch for ${encoding} on ${JSON.stringify(text)}`);
        }
        expect(countTokens(text, encoding), `${encoding} ${JSON.stringify(text)}`).toBe(expected.length);
        compared++;
      }
    }
    expect(compared).toBe(1200);
  });

  it("decodes back to the same text and splits into pieces that join to it", () => {
    const next = prng(7);
    for (let i = 0; i < 200; i++) {
      const text = randomText(next);
      for (const encoding of ["o200k_base", "r50k_base"] as const) {
        const tokens = encode(text, encoding);
        expect(decodeTokens(tokens, encoding)).toBe(text);
        const pieces = tokenPieces(text, encoding);
        expect(pieces).toHaveLength(tokens.length);
        expect(pieces.join("")).toBe(text);
      }
    }
  });

  it("attributes a character split over byte tokens to the token that completes it", () => {
    const tokens = encode("看", "r50k_base");
    expect(tokens.length).toBeGreaterThan(1);
    const pieces = tokenPieces("看", "r50k_base");
    expect(pieces.at(-1)).toBe("看");
    expect(pieces.slice(0, -1).every((piece) => piece === "")).toBe(true);
    expect(tokenPieces("hello world", "o200k_base")).toEqual(["hello", " world"]);
  });

  it("does not leak a partial character from one decode into the next", () => {
    const chinese = encode(CHINESE, "r50k_base");
    // The first token is only part of 看: the decode shows U+FFFD, and the next decode is unaffected.
    expect(decodeTokens(chinese.slice(0, 1), "r50k_base")).toBe("\ufffd");
    expect(decodeTokens(encode("hello", "r50k_base"), "r50k_base")).toBe("hello");
    expect(decodeTokens(chinese, "r50k_base")).toBe(CHINESE);
  });

  it("charges the chat-format overhead per message", () => {
    expect(TOKENS_PER_MESSAGE).toBe(3);
    expect(REPLY_PRIMING_TOKENS).toBe(3);
    expect(messageTokens(CHINESE, "o200k_base")).toBe(countTokens(CHINESE, "o200k_base") + TOKENS_PER_MESSAGE);
    expect(messageTokens("", "o200k_base")).toBe(TOKENS_PER_MESSAGE);
  });
});

describe("models", () => {
  const normalize = (name: string): string =>
    name === "p50k_edit" ? "p50k_base" : name === "gpt2" ? "r50k_base" : name === "o200k_harmony" ? "o200k_base" : name;

  it("maps every model gpt-tokenizer knows to the same encoding", () => {
    const entries = Object.entries(modelToEncodingMap);
    // The table lists every model that is not o200k_base (the library's default): ~60 of them.
    expect(entries.length).toBeGreaterThan(50);
    for (const [model, encoding] of entries) {
      expect(encodingForModel(model), model).toBe(normalize(encoding));
    }
  });

  it("maps every model js-tiktoken knows to the same encoding", () => {
    // Not davinci-002 / babbage-002: js-tiktoken says p50k_base, while Python tiktoken and
    // gpt-tokenizer say cl100k_base (checked by the test above).
    const models: TiktokenModel[] = [
      "text-davinci-003", "text-davinci-edit-001", "code-davinci-edit-001", "gpt2",
      "gpt-35-turbo", "gpt-3.5-turbo-16k", "gpt-3.5-turbo-instruct-0914", "gpt-4-32k-0613", "gpt-4-vision-preview",
      "gpt-4o-realtime", "o1-pro", "o3-mini", "o4-mini", "chatgpt-4o-latest", "gpt-4.1-nano", "gpt-4.5-preview",
      "gpt-5-chat-latest", "text-embedding-3-small", "text-search-ada-doc-001", "curie",
    ];
    for (const model of models) {
      expect(encodingForModel(model), model).toBe(normalize(getEncodingNameForModel(model)));
    }
  });

  it("falls back to o200k_base and strips prefixes", () => {
    expect(encodingForModel("some-future-model")).toBe("o200k_base");
    expect(encodingForModel("gpt-image-1")).toBe("o200k_base");
    expect(encodingForModel("openai/gpt-4")).toBe("cl100k_base");
    expect(encodingForModel("ft:gpt-3.5-turbo-0125:acme::abc123")).toBe("cl100k_base");
    expect(encodingForModel("  GPT-4O-MINI ")).toBe("o200k_base");
  });

  it("knows conservative context windows", () => {
    expect(contextWindowForModel("gpt-4o-mini")).toBe(128_000);
    expect(contextWindowForModel("gpt-4.1-mini-2025-04-14")).toBe(1_047_576);
    expect(contextWindowForModel("gpt-5-mini")).toBe(400_000);
    expect(contextWindowForModel("gpt-5-chat-latest")).toBe(128_000);
    expect(contextWindowForModel("gpt-4-turbo-2024-04-09")).toBe(128_000);
    expect(contextWindowForModel("gpt-4-1106-preview")).toBe(128_000);
    expect(contextWindowForModel("gpt-4")).toBe(8_192);
    expect(contextWindowForModel("gpt-4-32k")).toBe(32_768);
    expect(contextWindowForModel("gpt-3.5-turbo")).toBe(16_385);
    expect(contextWindowForModel("o3-mini")).toBe(200_000);
    expect(contextWindowForModel("o4-mini-2025-04-16")).toBe(200_000);
    expect(contextWindowForModel("o1-mini")).toBe(128_000);
    expect(contextWindowForModel("mystery")).toBe(128_000);
  });
});
