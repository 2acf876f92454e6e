/**
 * Token counting, encoding and decoding for OpenAI's byte-pair encodings.
 *
 * Each encoding is a compact rank table (bpe-table.ts) that `npm run build` writes from gpt-tokenizer's data; reading
 * one takes milliseconds and 4.3 MB for o200k_base. Only the encodings in use are loaded: the model's at
 * start-up, GPT-3's (r50k_base) when /tokens first compares with it. `await loadEncoding(name)` reads a table
 * without blocking; after that every function here is synchronous. A call for an encoding that was never loaded
 * still works: it reads the table synchronously (or, running from the TypeScript sources without a build, builds it
 * from gpt-tokenizer, which takes a second) instead of failing.
 *
 * User text is counted as plain text: a message that contains "<|endoftext|>" is a few ordinary
 * tokens to the API, not a special token and not an error.
 */
import { encodingForModel, type EncodingName } from "./models.js";
import { BpeCounter } from "./bpe-counter.js";
import { loadTable, loadTableSync, type BpeTable } from "./bpe-table.js";

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

class TableTokenizer implements Tokenizer {
  readonly #table: BpeTable;
  readonly #counter: BpeCounter;

  constructor(
    readonly encoding: EncodingName,
    table: BpeTable,
  ) {
    this.#table = table;
    this.#counter = new BpeCounter(table);
  }

  countTokens(text: string): number {
    return this.#counter.count(text);
  }

  encode(text: string): number[] {
    return this.#counter.encode(text);
  }

  decode(tokens: Iterable<number>): string {
    // A fresh streaming decoder per call: a token list that ends inside a character must not leak its bytes into
    // the next decode.
    const decoder = new TextDecoder();
    let text = "";
    for (const token of tokens) text += decoder.decode(this.#bytes(token), { stream: true });
    return text + decoder.decode();
  }

  pieces(tokens: Iterable<number>): string[] {
    const decoder = new TextDecoder();
    const out: string[] = [];
    for (const token of tokens) out.push(decoder.decode(this.#bytes(token), { stream: true }));
    const rest = decoder.decode();
    if (rest.length > 0 && out.length > 0) out[out.length - 1] += rest;
    return out;
  }

  #bytes(token: number): Uint8Array {
    const bytes = this.#table.tokenBytes(token);
    if (bytes === undefined) throw new RangeError(`token ${token} is not in the ${this.encoding} vocabulary`);
    return bytes;
  }
}

const loaded = new Map<EncodingName, Tokenizer>();
const loading = new Map<EncodingName, Promise<Tokenizer>>();

/** Loads an encoding once; concurrent callers share one read. */
export async function loadEncoding(name: EncodingName): Promise<Tokenizer> {
  const ready = loaded.get(name);
  if (ready) return ready;
  let pending = loading.get(name);
  if (!pending) {
    pending = (async () => {
      try {
        const table = await loadTable(name);
        // A synchronous load may have won the race; keep the first so there is one table in memory.
        const existing = loaded.get(name);
        if (existing) return existing;
        const tokenizer = new TableTokenizer(name, table);
        loaded.set(name, tokenizer);
        return tokenizer;
      } finally {
        loading.delete(name);
      }
    })();
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

/** The loaded tokenizer, or a synchronous load when nobody awaited loadEncoding. */
export function getTokenizer(name: EncodingName): Tokenizer {
  const ready = loaded.get(name);
  if (ready) return ready;
  const tokenizer = new TableTokenizer(name, loadTableSync(name));
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
