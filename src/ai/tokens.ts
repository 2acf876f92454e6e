/**
 * Token counting with gpt-tokenizer.
 *
 * Each encoding's rank table is megabytes of JavaScript, so it is loaded on first use and once.
 * The intended pattern is `await loadEncoding(encodingForModel(model))` at start-up; after that
 * every function here is synchronous. A call for an encoding that was never loaded still works:
 * it loads the CommonJS build synchronously (slow once, then cached) instead of failing.
 *
 * User text is counted as plain text: a message that contains "<|endoftext|>" is a few ordinary
 * tokens to the API, not a special token and not an error.
 */
import { createRequire } from "node:module";
import type { GptEncoding } from "gpt-tokenizer/GptEncoding";
import { encodingForModel, type EncodingName } from "./models.js";
import { BpeCounter, type BpeTables } from "./bpe-counter.js";

export type { EncodingName } from "./models.js";

/** Per-message overhead of the chat format (OpenAI cookbook: <|start|>{role/name}\n{content}<|end|>\n). */
export const TOKENS_PER_MESSAGE = 3;
/** Every reply is primed with <|start|>assistant<|message|>. */
export const REPLY_PRIMING_TOKENS = 3;

export interface Tokenizer {
  readonly encoding: EncodingName;
  countTokens(text: string): number;
  encode(text: string): number[];
  /** Whole-text decode; a trailing partial UTF-8 sequence becomes U+FFFD. */
  decode(tokens: Iterable<number>): string;
  /** One string per token; see {@link tokenPieces}. */
  pieces(tokens: Iterable<number>): string[];
}

// Passing an empty disallow set turns off gpt-tokenizer's "Disallowed special token" throw.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** What gpt-tokenizer keeps inside GptEncoding; used to get a token's raw bytes (see tokenBytes). */
interface BytePairCore {
  tryDecodeToken(token: number): string | Uint8Array | undefined;
}

const utf8 = new TextEncoder();

function bpeTablesOf(core: unknown): BpeTables | undefined {
  const c = core as Partial<BpeTables> | undefined;
  return Array.isArray(c?.bytePairRankDecoder) && c.tokenSplitRegex instanceof RegExp && c.bytePairStringRankEncoder instanceof Map
    ? (c as BpeTables)
    : undefined;
}

class GptTokenizer implements Tokenizer {
  private readonly core: BytePairCore | undefined;
  /** Counting is the hot path (history budgets, /tokens): a faster exact counter on the same tables (bpe-counter.ts). */
  private readonly counter: BpeCounter | undefined;

  constructor(
    readonly encoding: EncodingName,
    private readonly api: GptEncoding,
  ) {
    const core = (api as unknown as { bytePairEncodingCoreProcessor?: Partial<BytePairCore> }).bytePairEncodingCoreProcessor;
    this.core = typeof core?.tryDecodeToken === "function" ? (core as BytePairCore) : undefined;
    const tables = bpeTablesOf(core);
    this.counter = tables ? new BpeCounter(tables) : undefined;
  }

  countTokens(text: string): number {
    return this.counter ? this.counter.count(text) : this.api.countTokens(text, PLAIN_TEXT);
  }

  /** Builds the counter's byte table now (a few hundred ms) instead of during the first answer. */
  warm(): void {
    this.countTokens("é一");
  }

  encode(text: string): number[] {
    return this.api.encode(text, PLAIN_TEXT);
  }

  decode(tokens: Iterable<number>): string {
    // gpt-tokenizer's own decode() shares one streaming TextDecoder between calls, so a token list
    // that ends inside a character leaks its bytes into the next decode (seen in 4.0.0). Decode
    // with a fresh decoder per call instead.
    const decoder = new TextDecoder();
    let text = "";
    for (const token of tokens) text += decoder.decode(this.tokenBytes(token), { stream: true });
    return text + decoder.decode();
  }

  pieces(tokens: Iterable<number>): string[] {
    const decoder = new TextDecoder();
    const out: string[] = [];
    for (const token of tokens) out.push(decoder.decode(this.tokenBytes(token), { stream: true }));
    const rest = decoder.decode();
    if (rest.length > 0 && out.length > 0) out[out.length - 1] += rest;
    return out;
  }

  private tokenBytes(token: number): Uint8Array {
    if (this.core) {
      const bytes = this.core.tryDecodeToken(token);
      if (bytes === undefined) throw new RangeError(`token ${token} is not in the ${this.encoding} vocabulary`);
      return typeof bytes === "string" ? utf8.encode(bytes) : bytes;
    }
    // Fallback if a future gpt-tokenizer hides its core: exact for tokens that are whole characters.
    return utf8.encode(this.api.decode([token]));
  }
}

const loaded = new Map<EncodingName, Tokenizer>();
const loading = new Map<EncodingName, Promise<Tokenizer>>();

async function importEncoding(name: EncodingName): Promise<GptEncoding> {
  // Literal specifiers so bundlers and tsc see each module.
  switch (name) {
    case "o200k_base":
      return (await import("gpt-tokenizer/encoding/o200k_base")).default;
    case "cl100k_base":
      return (await import("gpt-tokenizer/encoding/cl100k_base")).default;
    case "p50k_base":
      return (await import("gpt-tokenizer/encoding/p50k_base")).default;
    case "r50k_base":
      return (await import("gpt-tokenizer/encoding/r50k_base")).default;
    default:
      throw new TypeError(`unknown encoding: ${String(name)}`);
  }
}

function assertEncodingName(name: string): asserts name is EncodingName {
  if (name !== "o200k_base" && name !== "cl100k_base" && name !== "p50k_base" && name !== "r50k_base") {
    throw new TypeError(`unknown encoding "${name}" (expected o200k_base, cl100k_base, p50k_base or r50k_base)`);
  }
}

/** Loads an encoding once; concurrent callers share one import. */
export async function loadEncoding(name: EncodingName): Promise<Tokenizer> {
  assertEncodingName(name);
  const ready = loaded.get(name);
  if (ready) return ready;
  let pending = loading.get(name);
  if (!pending) {
    pending = importEncoding(name).then(
      (api) => {
        loading.delete(name);
        // A synchronous fallback may have won the race; keep the first so there is one table in memory.
        const existing = loaded.get(name);
        if (existing) return existing;
        const tokenizer = new GptTokenizer(name, api);
        tokenizer.warm();
        loaded.set(name, tokenizer);
        return tokenizer;
      },
      (error: unknown) => {
        loading.delete(name);
        throw error;
      },
    );
    loading.set(name, pending);
  }
  return pending;
}

export async function loadEncodingForModel(model: string): Promise<Tokenizer> {
  return loadEncoding(encodingForModel(model));
}

export function isEncodingLoaded(name: EncodingName): boolean {
  return loaded.has(name);
}

const requireCjs = createRequire(import.meta.url);

/** The loaded tokenizer, or a synchronous load of the CommonJS build when nobody awaited loadEncoding. */
export function getTokenizer(name: EncodingName): Tokenizer {
  const ready = loaded.get(name);
  if (ready) return ready;
  assertEncodingName(name);
  const module = requireCjs(`gpt-tokenizer/cjs/encoding/${name}`) as { default?: GptEncoding } & GptEncoding;
  const tokenizer = new GptTokenizer(name, module.default ?? module);
  loaded.set(name, tokenizer);
  return tokenizer;
}

export function countTokens(text: string, encoding: EncodingName): number {
  return getTokenizer(encoding).countTokens(text);
}

export function encode(text: string, encoding: EncodingName): number[] {
  return getTokenizer(encoding).encode(text);
}

export function decodeTokens(tokens: Iterable<number>, encoding: EncodingName): string {
  return getTokenizer(encoding).decode(tokens);
}

export { decodeTokens as decode };

/**
 * The text of each token, for showing how a text splits (/tokens). `pieces.length` is the token
 * count and `pieces.join("") === text`. A character spread over several byte-level tokens (common
 * for Chinese and emoji) appears in the piece of the token that completes it; the earlier tokens
 * of that character have empty pieces.
 */
export function tokenPieces(text: string, encoding: EncodingName): string[] {
  const tokenizer = getTokenizer(encoding);
  return tokenizer.pieces(tokenizer.encode(text));
}

/** Tokens one chat message costs: its content plus the per-message overhead (role, separators). */
export function messageTokens(content: string, encoding: EncodingName): number {
  return getTokenizer(encoding).countTokens(content) + TOKENS_PER_MESSAGE;
}
