/**
 * What we need to know about an OpenAI model name without asking the API: which BPE encoding
 * counts its tokens and how large its context window is. OPENAI_MODEL is free text (dated
 * snapshots, fine-tunes, proxies that prefix a provider), so the rules match on prefixes and fall
 * back to the current generation rather than failing.
 */

export type EncodingName = "o200k_base" | "cl100k_base" | "p50k_base" | "r50k_base";

export const ENCODING_NAMES: readonly EncodingName[] = ["o200k_base", "cl100k_base", "p50k_base", "r50k_base"];

/** Unknown models are assumed to be from the current generation. */
export const DEFAULT_ENCODING: EncodingName = "o200k_base";
export const DEFAULT_CONTEXT_WINDOW = 128_000;

/**
 * Lower-cases and strips what is not part of the base model name:
 * "openai/gpt-4o" (router prefixes) and "ft:gpt-4o-mini-2024-07-18:org:name:id" (fine-tunes).
 */
export function baseModelName(model: string): string {
  let name = model.trim().toLowerCase();
  const slash = name.lastIndexOf("/");
  if (slash >= 0) name = name.slice(slash + 1);
  if (name.startsWith("ft:")) name = name.slice(3).split(":")[0] ?? "";
  return name;
}

function startsWithAny(name: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => name.startsWith(prefix));
}

/** "gpt-4", "gpt-4-0613", "gpt-4-32k", "gpt-4-turbo…", "gpt-4-1106-preview" — but not gpt-4o / gpt-4.1 / gpt-4.5. */
function isGpt4Classic(name: string): boolean {
  return name === "gpt-4" || name.startsWith("gpt-4-");
}

const O200K_PREFIXES = [
  "gpt-4o",
  "chatgpt-4o",
  "gpt-4.1",
  "gpt-4.5",
  "gpt-5",
  "o1",
  "o3",
  "o4",
  "gpt-image",
  "chatgpt-image",
  "gpt-oss",
  "gpt-realtime",
  "gpt-audio",
  "codex-",
  "omni-moderation",
] as const;

const CL100K_PREFIXES = [
  "gpt-3.5",
  "gpt-35-", // Azure deployment spelling
  "text-embedding-3",
  "text-embedding-ada-002",
  "davinci-002",
  "babbage-002",
] as const;

// p50k_edit (the *-edit-001 models) tokenizes text exactly like p50k_base; it only adds FIM special tokens.
const P50K_PREFIXES = [
  "text-davinci-002",
  "text-davinci-003",
  "text-davinci-edit",
  "code-davinci-",
  "code-cushman-",
  "davinci-codex",
  "cushman-codex",
] as const;

const R50K_PREFIXES = [
  "text-davinci-001",
  "text-curie-",
  "text-babbage-",
  "text-ada-",
  "text-similarity-",
  "text-search-",
  "code-search-",
  "gpt2",
  "gpt-2",
] as const;
const R50K_EXACT = new Set(["davinci", "curie", "babbage", "ada"]);

export function encodingForModel(model: string): EncodingName {
  const name = baseModelName(model);
  if (startsWithAny(name, O200K_PREFIXES)) return "o200k_base";
  if (isGpt4Classic(name) || startsWithAny(name, CL100K_PREFIXES)) return "cl100k_base";
  if (startsWithAny(name, P50K_PREFIXES)) return "p50k_base";
  if (R50K_EXACT.has(name) || startsWithAny(name, R50K_PREFIXES)) return "r50k_base";
  return DEFAULT_ENCODING;
}

/**
 * Input context window in tokens. Conservative: where a family has members with different
 * windows, the smaller one wins unless the name tells them apart.
 */
export function contextWindowForModel(model: string): number {
  const name = baseModelName(model);
  if (name.startsWith("gpt-4.1")) return 1_047_576;
  if (name.startsWith("gpt-5")) {
    // The chat-tuned gpt-5*-chat snapshots are served with the smaller ChatGPT window.
    return name.includes("-chat") ? 128_000 : 400_000;
  }
  if (name.startsWith("gpt-4o") || name.startsWith("chatgpt-4o") || name.startsWith("gpt-4.5")) return 128_000;
  if (name.startsWith("o1-mini") || name.startsWith("o1-preview")) return 128_000;
  if (/^o[134](?:$|-)/.test(name)) return 200_000;
  if (isGpt4Classic(name)) {
    if (name.startsWith("gpt-4-turbo") || name.endsWith("-preview")) return 128_000;
    if (name.startsWith("gpt-4-32k")) return 32_768;
    return 8_192;
  }
  if (name.startsWith("gpt-3.5-turbo-instruct") || name.startsWith("gpt-35-turbo-instruct")) return 4_096;
  if (name.startsWith("gpt-3.5") || name.startsWith("gpt-35-")) return 16_385;
  return DEFAULT_CONTEXT_WINDOW;
}
