import { z } from "zod";

/**
 * OpenAI's list prices (standard tier, not Batch/Flex/Priority), in USD, from https://openai.com/api/pricing/
 * and https://platform.openai.com/docs/pricing as published on PRICES_AS_OF. Prices change: operators can
 * correct or add models with a JSON override (see parsePriceOverrides) without a release.
 */
export const PRICES_AS_OF = "2025-10-15";
/** When the audio prices (transcription per minute, speech per minute or per character) were taken from the same pages. */
export const AUDIO_PRICES_AS_OF = "2025-11-02";

export type ImageQuality = "low" | "medium" | "high" | "standard" | "hd";

export interface ModelPrice {
  /** USD per 1M input (prompt) tokens. */
  input: number;
  /** USD per 1M cached input tokens; input price when the model has no cache discount. */
  cachedInput?: number;
  /** USD per 1M output (completion, including reasoning) tokens. */
  output: number;
  /** USD per generated image: size ("1024x1024") → quality → price. */
  images?: Record<string, Partial<Record<ImageQuality, number>>>;
  /** What "auto" or a missing quality/size means for this image model. */
  defaultImage?: { size: string; quality: ImageQuality };
  /** USD per minute of audio: heard by a transcription model, or spoken by a speech model. */
  perMinute?: number;
  /** USD per 1M characters of text spoken (speech models priced by their input). */
  perMillionCharacters?: number;
}

const GPT_IMAGE_1_IMAGES = {
  "1024x1024": { low: 0.011, medium: 0.042, high: 0.167 },
  "1024x1536": { low: 0.016, medium: 0.063, high: 0.25 },
  "1536x1024": { low: 0.016, medium: 0.063, high: 0.25 },
};
const GPT_IMAGE_1_MINI_IMAGES = {
  "1024x1024": { low: 0.005, medium: 0.011, high: 0.036 },
  "1024x1536": { low: 0.006, medium: 0.015, high: 0.052 },
  "1536x1024": { low: 0.006, medium: 0.015, high: 0.052 },
};

export const PRICES: Readonly<Record<string, ModelPrice>> = {
  "gpt-5": { input: 1.25, cachedInput: 0.125, output: 10 },
  "gpt-5-chat-latest": { input: 1.25, cachedInput: 0.125, output: 10 },
  "gpt-5-mini": { input: 0.25, cachedInput: 0.025, output: 2 },
  "gpt-5-nano": { input: 0.05, cachedInput: 0.005, output: 0.4 },
  "gpt-4.1": { input: 2, cachedInput: 0.5, output: 8 },
  "gpt-4.1-mini": { input: 0.4, cachedInput: 0.1, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, cachedInput: 0.025, output: 0.4 },
  "gpt-4o": { input: 2.5, cachedInput: 1.25, output: 10 },
  // The first gpt-4o snapshot kept its launch price.
  "gpt-4o-2024-05-13": { input: 5, output: 15 },
  "chatgpt-4o-latest": { input: 5, output: 15 },
  "gpt-4o-mini": { input: 0.15, cachedInput: 0.075, output: 0.6 },
  "o3": { input: 2, cachedInput: 0.5, output: 8 },
  "o4-mini": { input: 1.1, cachedInput: 0.275, output: 4.4 },
  "gpt-4-turbo": { input: 10, output: 30 },
  "gpt-3.5-turbo": { input: 0.5, output: 1.5 },
  // Image models: text prompt tokens at `input`; each image at the per-image price (what OpenAI lists for the
  // output image tokens of that size and quality).
  "gpt-image-1": {
    input: 5,
    cachedInput: 1.25,
    output: 40,
    images: GPT_IMAGE_1_IMAGES,
    defaultImage: { size: "1024x1024", quality: "medium" },
  },
  "gpt-image-1-mini": {
    input: 2,
    cachedInput: 0.2,
    output: 8,
    images: GPT_IMAGE_1_MINI_IMAGES,
    defaultImage: { size: "1024x1024", quality: "medium" },
  },
  // Embedding models bill input tokens only (list prices unchanged since their launch on 2024-01-25; PRICES_AS_OF).
  "text-embedding-3-small": { input: 0.02, output: 0 },
  "text-embedding-3-large": { input: 0.13, output: 0 },
  "text-embedding-ada-002": { input: 0.1, output: 0 },
  // DALL·E bills per image only.
  "dall-e-3": {
    input: 0,
    output: 0,
    images: {
      "1024x1024": { standard: 0.04, hd: 0.08 },
      "1024x1792": { standard: 0.08, hd: 0.12 },
      "1792x1024": { standard: 0.08, hd: 0.12 },
    },
    defaultImage: { size: "1024x1024", quality: "standard" },
  },
  "dall-e-2": {
    input: 0,
    output: 0,
    images: { "256x256": { standard: 0.016 }, "512x512": { standard: 0.018 }, "1024x1024": { standard: 0.02 } },
    defaultImage: { size: "1024x1024", quality: "standard" },
  },
  // Audio (AUDIO_PRICES_AS_OF), as the pricing page lists it per minute or per character. The gpt-4o audio models bill tokens, but their
  // transcription and speech endpoints report no tokens the bot could price (the speech endpoint none at all), so
  // they are priced by OpenAI's own per-minute estimates: minutes heard (transcription, from Telegram's duration) or
  // spoken (speech, from the OGG file made). Tokens count nothing for them.
  "gpt-4o-mini-transcribe": { input: 0, output: 0, perMinute: 0.003 },
  "gpt-4o-transcribe": { input: 0, output: 0, perMinute: 0.006 },
  "whisper-1": { input: 0, output: 0, perMinute: 0.006 },
  "gpt-4o-mini-tts": { input: 0, output: 0, perMinute: 0.015 },
  "tts-1": { input: 0, output: 0, perMillionCharacters: 15 },
  "tts-1-hd": { input: 0, output: 0, perMillionCharacters: 30 },
};

export type PriceTable = Readonly<Record<string, ModelPrice>>;

// Dated snapshots: gpt-4o-2024-08-06, gpt-5-mini-2025-08-07, gpt-3.5-turbo-0125, gpt-4-0613.
const SNAPSHOT_SUFFIX = /-(\d{4}-\d{2}-\d{2}|\d{4})$/;

/**
 * The price of a model id. Exact id first (overrides before the built-in table), then the id without a dated
 * snapshot suffix, so "gpt-4o-2024-08-06" costs what "gpt-4o" does while "gpt-4o-mini" and
 * "gpt-4o-realtime-preview" do not fall back to "gpt-4o". A provider prefix ("openai/gpt-4o") is ignored.
 */
export function priceFor(model: string, overrides?: PriceTable): ModelPrice | undefined {
  const id = model.trim().toLowerCase().replace(/^openai\//, "");
  const lookup = (key: string) =>
    (overrides && Object.hasOwn(overrides, key) ? overrides[key] : undefined) ??
    (Object.hasOwn(PRICES, key) ? PRICES[key] : undefined);
  return lookup(id) ?? (SNAPSHOT_SUFFIX.test(id) ? lookup(id.replace(SNAPSHOT_SUFFIX, "")) : undefined);
}

export interface ImageUsage {
  /** "1024x1024"; "auto" or missing means the model's default. */
  size?: string;
  /** "low" | "medium" | "high" for gpt-image-1, "standard" | "hd" for DALL·E; "auto" or missing: the default. */
  quality?: string;
  count?: number;
}

export interface CostInput {
  model: string;
  promptTokens: number;
  /** Part of promptTokens served from the prompt cache (usage.prompt_tokens_details.cached_tokens). */
  cachedTokens?: number;
  completionTokens?: number;
  /** Generated images: a count at the model's default size and quality, or each with its size and quality. */
  images?: number | ImageUsage[];
  /** Seconds of audio the model heard (transcription) or spoke (speech). */
  audioSeconds?: number;
  /** Characters of text the model spoke (speech). */
  characters?: number;
}

function imagePrice(price: ModelPrice, image: ImageUsage): number | undefined {
  const size = !image.size || image.size === "auto" ? price.defaultImage?.size : image.size.replace("×", "x");
  const quality = !image.quality || image.quality === "auto" ? price.defaultImage?.quality : image.quality;
  if (!size || !quality) return undefined;
  return price.images?.[size]?.[quality as ImageQuality];
}

/** Estimated cost in USD, or null when the model (or an image size/quality) has no known price. */
export function estimateCost(input: CostInput, overrides?: PriceTable): number | null {
  const price = priceFor(input.model, overrides);
  if (!price) return null;
  const prompt = Math.max(0, input.promptTokens);
  const cached = Math.min(prompt, Math.max(0, input.cachedTokens ?? 0));
  const completion = Math.max(0, input.completionTokens ?? 0);
  let cost =
    ((prompt - cached) * price.input + cached * (price.cachedInput ?? price.input) + completion * price.output) / 1_000_000;
  cost += (Math.max(0, input.audioSeconds ?? 0) / 60) * (price.perMinute ?? 0);
  cost += (Math.max(0, input.characters ?? 0) * (price.perMillionCharacters ?? 0)) / 1_000_000;

  const images: ImageUsage[] =
    typeof input.images === "number" ? (input.images > 0 ? [{ count: input.images }] : []) : (input.images ?? []);
  for (const image of images) {
    const count = image.count ?? 1;
    if (count <= 0) continue;
    const each = imagePrice(price, image);
    if (each === undefined) return null;
    cost += each * count;
  }
  return cost;
}

const usd = z.number().finite().nonnegative();
const modelPriceSchema = z
  .object({
    input: usd,
    cachedInput: usd.optional(),
    output: usd,
    images: z
      .record(
        z.string().regex(/^\d+x\d+$/, 'image size like "1024x1024"'),
        z.partialRecord(z.enum(["low", "medium", "high", "standard", "hd"]), usd),
      )
      .optional(),
    defaultImage: z
      .object({ size: z.string().regex(/^\d+x\d+$/), quality: z.enum(["low", "medium", "high", "standard", "hd"]) })
      .optional(),
    perMinute: usd.optional(),
    perMillionCharacters: usd.optional(),
  })
  .strict();
const overridesSchema = z.record(z.string().min(1), modelPriceSchema);

export class PriceOverrideError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PriceOverrideError";
  }
}

/**
 * Parses a JSON price table such as `{"gpt-4o":{"input":2.5,"output":10}}` (USD per 1M tokens; cachedInput,
 * images, defaultImage, perMinute and perMillionCharacters as in ModelPrice). An entry replaces the built-in one for that model id.
 * Throws PriceOverrideError with a short reason when the JSON or a price is invalid.
 */
export function parsePriceOverrides(json: string): PriceTable {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new PriceOverrideError("Price overrides are not valid JSON.");
  }
  const result = overridesSchema.safeParse(data);
  if (!result.success) {
    const detail = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    throw new PriceOverrideError(`Invalid price overrides: ${detail}`);
  }
  return Object.fromEntries(Object.entries(result.data).map(([model, price]) => [model.trim().toLowerCase(), price]));
}

/**
 * The one way the bot shows money (/usage, budgets, refusals, /tokens): "$0.00", "$0.0000072" and "$0.000034"
 * (fractions of a hundredth of a cent keep two significant digits: one message costs that little), "$0.0012",
 * "$0.042", "$0.50", "$12.35", "$1,234.50".
 */
export function formatUsd(n: number): string {
  if (!Number.isFinite(n)) return "$?";
  if (n < 0) return `-${formatUsd(-n)}`;
  if (n === 0) return "$0.00";
  if (n < 0.0001) return `$${n.toFixed(Math.min(20, 1 - Math.floor(Math.log10(n))))}`;
  if (n < 1) {
    // Four decimals at most, two at least: $0.0012, $0.012, $0.50.
    const text = n.toFixed(4).replace(/0{1,2}$/, "");
    return `$${text}`;
  }
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
