/**
 * POST /v1/embeddings of the OpenAI test server, with deterministic vectors a test can reason about.
 *
 * The vectors: a normalised, hashed bag of words. A text is split into words with Intl.Segmenter (ICU's dictionary
 * segmentation, so Chinese is split into words too), lower-cased (NFKC), with a trailing possessive "'s" and a plural
 * "s" of latin words of 4+ letters dropped, and common English and Chinese function words left out. Each word stands
 * for a fixed pseudo-random vector (seeded by a hash of the word, components uniform in [-1, 1)), weighted
 * 1 + ln(count); their sum, cut to the requested dimensions and normalised to length 1, is the embedding. Random
 * vectors of 1536 dimensions are nearly orthogonal, so the cosine similarity of two texts is close to the weighted
 * share of words they have in common: texts sharing rare words are near, texts sharing none are near 0. A text with
 * no words at all (only punctuation, say) gets the vector of its whole string.
 * `dimensions` shortens the vector as text-embedding-3 models do (cut, then re-normalise), so a 256-dimension vector
 * is a prefix of the 1536 one up to scale.
 *
 * Like OpenAI: string, string[], token array and token arrays as input; float or base64 (little-endian float32, what
 * the openai SDK asks for by default and decodes); usage.prompt_tokens counted with the real tokenizer (cl100k_base,
 * gpt-tokenizer); 400 for an empty input, an input over 8192 tokens, more than 2048 inputs or 300,000 tokens in all;
 * 404 for an unknown model; `dimensions` refused by text-embedding-ada-002.
 * Looser: the vectors carry no meaning beyond shared words (synonyms are far apart). Stricter: unknown models are a
 * 404 even where a proxy would accept them (add them with the server's `embeddingModels` option).
 */
import type { ServerResponse } from "node:http";
import type { GptEncoding } from "gpt-tokenizer/GptEncoding";
import { sendJson } from "../http-util.js";
import { errorBody, isObject } from "./errors.js";
import { ResponseLife, type EndpointScript } from "./lifetime.js";

/** The embedding models the server knows, with their native dimensions and whether `dimensions` may shorten them. */
export const EMBEDDING_MODELS: Readonly<Record<string, { dimensions: number; shortenable: boolean }>> = {
  "text-embedding-3-small": { dimensions: 1536, shortenable: true },
  "text-embedding-3-large": { dimensions: 3072, shortenable: true },
  "text-embedding-ada-002": { dimensions: 1536, shortenable: false },
};

/** Largest input, in tokens, of every OpenAI embedding model. */
export const MAX_EMBEDDING_INPUT_TOKENS = 8192;
/** Most inputs in one request. */
export const MAX_EMBEDDING_INPUTS = 2048;
/** Most tokens over all inputs of one request. */
export const MAX_EMBEDDING_REQUEST_TOKENS = 300_000;

/** The parsed body of an embeddings request. */
export interface EmbeddingRequestBody {
  model: string;
  input: string | string[] | number[] | number[][];
  dimensions?: number;
  encoding_format?: "float" | "base64";
  user?: string;
  [key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------------------
// The vectors

const STOPWORDS = new Set(
  (
    "a an the and or but if then else of to in on at by for with from as into onto over under about than that this " +
    "these those it its is are was were be been being am do does did done have has had having i me my we our you your " +
    "he him his she her they them their what which who whom whose when where why how not no nor so too very can could " +
    "will would shall should may might must there here all any each few more most other some such only own same just " +
    "also up down out off again once 的 了 是 在 和 与 及 也 有 就 不 都 而 这 那 我 你 他 她 它 们 之 着 个 吗 呢 吧 啊 把 被 对 从 到"
  ).split(" "),
);

const segmenter = new Intl.Segmenter("und", { granularity: "word" });

/** The words of `text` that count for its embedding, in order (see the file comment). */
export function embeddingWords(text: string): string[] {
  const words: string[] = [];
  for (const segment of segmenter.segment(text.normalize("NFKC").toLowerCase())) {
    if (!segment.isWordLike) continue;
    let word = segment.segment.replace(/['’]s$/u, "");
    if (/^[a-z]{3,}s$/.test(word) && !word.endsWith("ss")) word = word.slice(0, -1);
    if (word === "" || STOPWORDS.has(word)) continue;
    words.push(word);
  }
  return words;
}

/** FNV-1a over UTF-16 code units: the seed of a word's vector. */
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

const wordVectors = new Map<string, Float64Array>();

/**
 * The fixed pseudo-random vector of one word (mulberry32 seeded by the word's hash), cached. Component i is the i-th
 * number of the word's sequence whatever the length, so a shorter vector is a prefix of a longer one.
 */
function wordVector(word: string, dimensions: number): Float64Array {
  const key = `${dimensions}:${word}`;
  let vector = wordVectors.get(key);
  if (vector) return vector;
  vector = new Float64Array(dimensions);
  let state = hash32(word);
  for (let i = 0; i < dimensions; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    vector[i] = (((t ^ (t >>> 14)) >>> 0) / 2 ** 31) - 1;
  }
  if (wordVectors.size >= 50_000) wordVectors.clear();
  wordVectors.set(key, vector);
  return vector;
}

/**
 * The embedding this server answers for `text`: unit length, `dimensions` long (default the model's own), each
 * component a float32 value (so float and base64 answers carry the same numbers).
 */
export function embedText(text: string, options: { model?: string; dimensions?: number } = {}): number[] {
  const dimensions = options.dimensions ?? EMBEDDING_MODELS[options.model ?? "text-embedding-3-small"]?.dimensions ?? 1536;
  const counts = new Map<string, number>();
  for (const word of embeddingWords(text)) counts.set(word, (counts.get(word) ?? 0) + 1);
  if (counts.size === 0) counts.set(`\u0000${text}`, 1);
  const sum = new Float64Array(dimensions);
  for (const [word, count] of counts) {
    const vector = wordVector(word, dimensions);
    const weight = 1 + Math.log(count);
    for (let i = 0; i < dimensions; i++) sum[i]! += weight * vector[i]!;
  }
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += sum[i]! * sum[i]!;
  norm = Math.sqrt(norm) || 1;
  return Array.from(sum, (x) => Math.fround(x / norm));
}

/** Cosine similarity of two vectors of the same length. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} vs ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / (Math.sqrt(na) * Math.sqrt(nb) || 1);
}

// ---------------------------------------------------------------------------------------------------------------
// The endpoint

let cl100k: Promise<GptEncoding> | undefined;

/** text-embedding-3 and ada-002 count with cl100k_base; loaded on the first embeddings request. */
function tokenizer(): Promise<GptEncoding> {
  cl100k ??= import("gpt-tokenizer/encoding/cl100k_base").then((m) => m.default);
  return cl100k;
}

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
const INVALID_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";

type Inputs = { texts: string[]; tokens: number[] } | { error: string; status?: number; code?: string | null; param?: string | null };

function readInputs(input: unknown, encoding: GptEncoding): Inputs {
  const isToken = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < encoding.vocabularySize;
  let items: Array<string | number[]>;
  if (typeof input === "string") items = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((v) => typeof v === "number")) items = [input];
  else if (Array.isArray(input)) items = input as Array<string | number[]>;
  else return { error: INVALID_INPUT };
  if (items.length === 0) return { error: INVALID_INPUT };
  if (items.length > MAX_EMBEDDING_INPUTS) {
    return {
      error: `Invalid 'input': array too long. Expected an array with maximum length ${MAX_EMBEDDING_INPUTS}, but got an array with length ${items.length} instead.`,
      code: "array_above_max_length",
      param: "input",
    };
  }
  const texts: string[] = [];
  const tokens: number[] = [];
  for (const item of items) {
    if (typeof item === "string") {
      if (item === "") return { error: INVALID_INPUT };
      texts.push(item);
      tokens.push(encoding.countTokens(item, PLAIN_TEXT));
    } else if (Array.isArray(item) && item.length > 0 && item.every(isToken)) {
      texts.push(encoding.decode(item));
      tokens.push(item.length);
    } else {
      return { error: INVALID_INPUT };
    }
  }
  return { texts, tokens };
}

/** The embeddings endpoint: scripts (failures, delays, gates) and the default deterministic answer. */
export class EmbeddingsEndpoint {
  readonly queue: EndpointScript[] = [];
  readonly models: Record<string, { dimensions: number; shortenable: boolean }>;

  constructor(
    private readonly stop: AbortSignal,
    extraModels: Record<string, number> = {},
  ) {
    this.models = { ...EMBEDDING_MODELS };
    for (const [name, dimensions] of Object.entries(extraModels)) this.models[name] = { dimensions, shortenable: true };
  }

  async handle(body: unknown, res: ServerResponse): Promise<void> {
    const life = new ResponseLife(res, this.stop);
    const script = this.queue.shift();
    if (script && "error" in script) {
      const { status, body: errBody, headers } = script.error;
      return sendJson(res, status, errBody ?? errorBody(status), headers);
    }
    if (script && "delayMs" in script) await life.sleep(script.delayMs);
    if (script && "hold" in script) await life.hold(script.hold);
    if (life.gone) return;

    if (!isObject(body)) return sendJson(res, 400, errorBody(400, "We could not parse the JSON body of your request.", null));
    if (typeof body.model !== "string" || body.model === "") return sendJson(res, 400, errorBody(400, "you must provide a model parameter", null));
    const model = this.models[body.model];
    if (!model) {
      return sendJson(res, 404, errorBody(404, `The model \`${body.model}\` does not exist or you do not have access to it.`, "model_not_found"));
    }
    if (body.input === undefined) return sendJson(res, 400, errorBody(400, "'input' is a required property", null));
    const format = body.encoding_format ?? "float";
    if (format !== "float" && format !== "base64") {
      return sendJson(
        res,
        400,
        errorBody(400, `Invalid value: '${typeof format === "string" ? format : JSON.stringify(format)}'. Supported values are: 'float' and 'base64'.`, "invalid_value", "encoding_format"),
      );
    }
    let dimensions = model.dimensions;
    if (body.dimensions !== undefined && body.dimensions !== null) {
      if (!model.shortenable) {
        return sendJson(res, 400, errorBody(400, "This model does not support specifying dimensions.", null, "dimensions"));
      }
      if (!Number.isInteger(body.dimensions) || (body.dimensions as number) < 1 || (body.dimensions as number) > model.dimensions) {
        return sendJson(
          res,
          400,
          errorBody(400, `Invalid value for 'dimensions' = ${typeof body.dimensions === "string" ? body.dimensions : JSON.stringify(body.dimensions)}. Must be between 1 and ${model.dimensions}.`, null, "dimensions"),
        );
      }
      dimensions = body.dimensions as number;
    }
    const inputs = readInputs(body.input, await tokenizer());
    if ("error" in inputs) return sendJson(res, 400, errorBody(400, inputs.error, inputs.code ?? null, inputs.param ?? null));
    const longest = Math.max(...inputs.tokens);
    if (longest > MAX_EMBEDDING_INPUT_TOKENS) {
      return sendJson(
        res,
        400,
        errorBody(
          400,
          `This model's maximum context length is ${MAX_EMBEDDING_INPUT_TOKENS} tokens, however you requested ${longest} tokens (${longest} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
          null,
        ),
      );
    }
    const total = inputs.tokens.reduce((a, b) => a + b, 0);
    if (total > MAX_EMBEDDING_REQUEST_TOKENS) {
      return sendJson(
        res,
        400,
        errorBody(400, `Requested ${total} tokens, max ${MAX_EMBEDDING_REQUEST_TOKENS} tokens per request`, "max_tokens_per_request", null),
      );
    }
    const data = inputs.texts.map((text, index) => {
      const vector = embedText(text, { model: body.model as string, dimensions });
      const embedding = format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
      return { object: "embedding", index, embedding };
    });
    sendJson(res, 200, { object: "list", data, model: body.model, usage: { prompt_tokens: total, total_tokens: total } });
  }
}
