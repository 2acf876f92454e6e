/**
 * Input-token cost of one image for the GPT-4o family of vision models.
 *
 * The rule (OpenAI's vision guide, also in the user's notes): `low` detail costs a flat 85 tokens. `high` (and `auto`,
 * counted as its worst case) first scales the image down to fit inside 2048×2048 keeping the aspect ratio, then scales
 * it down so the shortest side is at most 768 px; neither step enlarges. The result is covered by 512 px tiles:
 * 170 tokens per tile plus 85.
 *
 * Scaled sides are truncated to whole pixels, as OpenAI's reference code does (`int(...)`), and never below 1 px.
 * Unlike the notes' code, small images are not blown up to 768×768 (512×512 costs 255, not 765).
 */
export type ImageDetail = "low" | "high" | "auto";

export const LOW_DETAIL_TOKENS = 85;
const BASE_TOKENS = 85;
const TOKENS_PER_TILE = 170;
const MAX_SIDE = 2048;
const MAX_SHORT_SIDE = 768;
const TILE = 512;

/**
 * The most one image can cost at high detail, whatever its size: a short side of 768 and a long side of 2048 after
 * scaling, 2×4 tiles. What a picture is counted as before its size is known (an image document not yet downloaded).
 */
export const MAX_HIGH_DETAIL_TOKENS = BASE_TOKENS + TOKENS_PER_TILE * 8;

export function imageTokens(width: number, height: number, detail: ImageDetail = "high"): number {
  if (!Number.isFinite(width) || !Number.isFinite(height) || width <= 0 || height <= 0) {
    throw new RangeError(`image size must be positive, got ${width}×${height}`);
  }
  if (detail === "low") return LOW_DETAIL_TOKENS;
  const { width: w, height: h } = scaledForHighDetail(width, height);
  const tiles = Math.ceil(w / TILE) * Math.ceil(h / TILE);
  return BASE_TOKENS + TOKENS_PER_TILE * tiles;
}

/** The size the model sees in high detail. */
export function scaledForHighDetail(width: number, height: number): { width: number; height: number } {
  let w = width;
  let h = height;
  const longest = Math.max(w, h);
  if (longest > MAX_SIDE) {
    const scale = MAX_SIDE / longest;
    [w, h] = [shrink(w, scale), shrink(h, scale)];
  }
  const shortest = Math.min(w, h);
  if (shortest > MAX_SHORT_SIDE) {
    const scale = MAX_SHORT_SIDE / shortest;
    [w, h] = [shrink(w, scale), shrink(h, scale)];
  }
  return { width: w, height: h };
}

function shrink(side: number, scale: number): number {
  // The epsilon keeps 2048/4096*4096 style products from landing at 2047.9999… and losing a pixel.
  return Math.max(1, Math.floor(side * scale + 1e-9));
}
