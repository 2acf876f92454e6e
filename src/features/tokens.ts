import { Composer } from "grammy";
import type { Message, PhotoSize } from "grammy/types";
import type { BotContext } from "../bot/context.js";
import { repliedTo } from "../bot/addressing.js";
import { replyToSender } from "../bot/reply.js";
import { encodingForModel } from "../ai/models.js";
import { countTokens, encode, loadEncoding, tokenPieces } from "../ai/tokens.js";
import { imageTokens } from "../ai/image-tokens.js";
import { estimateCost, formatUsd, PRICES_AS_OF } from "../ai/pricing.js";
import { effectiveModel } from "../services/models.js";

/** The notes' example is GPT-3's encoding; shown beside the chat model's for comparison. */
const GPT3_ENCODING = "r50k_base";
/** Token pieces shown with the flag; the rest is summarised as "… N more". */
const MAX_PIECES = 40;
const PIECES_FLAG = /^(?:-v|--verbose|--pieces|-p)(?:\s+|$)/i;

/**
 * /tokens text, or /tokens replying to a message: the text's tokens for this chat's model, GPT-3's count, characters
 * and the estimated input cost; replying to a photo, its token cost at low and high detail. `-v` (or `--pieces`)
 * lists the tokens and what each one decodes to, like the decode loop in the user's notes.
 */
export const tokensFeature = new Composer<BotContext>();

tokensFeature.command("tokens", async (ctx) => {
  let args = ctx.match.trim();
  const showPieces = PIECES_FLAG.test(args);
  if (showPieces) args = args.replace(PIECES_FLAG, "").trim();

  // The model answers actually use: a /settings choice no longer in ALLOWED_MODELS falls back to OPENAI_MODEL.
  const model = effectiveModel(ctx.deps.config, await ctx.chatSettings());
  const encoding = encodingForModel(model);
  // In a forum topic every message "replies" to the topic's service message; that is not a message to count.
  const reply = repliedTo(ctx.msg);

  const text = args || (reply ? (reply.text ?? reply.caption ?? "") : "");
  const photo = !args && reply ? largestPhoto(reply) : undefined;
  if (photo) return replyToSender(ctx, imageReport(ctx, model, photo));
  if (!text) return replyToSender(ctx, ctx.t(reply ? "tokens-nothing-to-count" : "tokens-usage"));

  // Loaded once per process; a chat whose /settings model uses another encoding loads that one here.
  await Promise.all([loadEncoding(encoding), loadEncoding(GPT3_ENCODING)]);
  const tokens = countTokens(text, encoding);
  const cost = estimateCost({ model, promptTokens: tokens }, ctx.deps.config.modelPrices);
  const lines = [
    ctx.t("tokens-count", { model: code(model), encoding: code(encoding), tokens: fmt(tokens) }),
    ctx.t("tokens-gpt3", { encoding: code(GPT3_ENCODING), tokens: fmt(countTokens(text, GPT3_ENCODING)) }),
    ctx.t("tokens-characters", { characters: fmt([...text].length) }),
    cost === null
      ? ctx.t("tokens-no-price", { model: code(model) })
      : ctx.t("tokens-cost", { cost: formatUsd(cost), date: PRICES_AS_OF }),
  ];
  if (showPieces) lines.push("", piecesBlock(ctx, text, encoding));
  await replyToSender(ctx, lines.join("\n"));
});

/** Telegram sends several sizes of a photo; the model would get the largest. */
function largestPhoto(msg: Message): PhotoSize | undefined {
  const sizes = msg.photo ?? [];
  return sizes.reduce<PhotoSize | undefined>((best, s) => (!best || s.width * s.height > best.width * best.height ? s : best), undefined);
}

function imageReport(ctx: BotContext, model: string, photo: PhotoSize): string {
  const line = (detail: "low" | "high") => {
    const tokens = imageTokens(photo.width, photo.height, detail);
    const cost = estimateCost({ model, promptTokens: tokens }, ctx.deps.config.modelPrices);
    return ctx.t(`tokens-image-${detail}`, { tokens: fmt(tokens), cost: cost === null ? "?" : formatUsd(cost) });
  };
  return [
    ctx.t("tokens-image", { width: String(photo.width), height: String(photo.height), model: code(model) }),
    line("low"),
    line("high"),
    ctx.t("tokens-prices-as-of", { date: PRICES_AS_OF }),
  ].join("\n");
}

/** Token id and the text it stands for, one per line, in a code block (JSON strings show spaces and newlines). */
function piecesBlock(ctx: BotContext, text: string, encoding: Parameters<typeof encode>[1]): string {
  const ids = encode(text, encoding);
  const pieces = tokenPieces(text, encoding);
  const width = String(Math.max(...ids.slice(0, MAX_PIECES))).length;
  const rows = ids
    .slice(0, MAX_PIECES)
    // A backtick inside the block could end it; \u0060 is the same JSON string.
    .map((id, i) => `${String(id).padStart(width)}  ${JSON.stringify(pieces[i] ?? "").replaceAll("`", "\\u0060")}`);
  const more = ids.length > MAX_PIECES ? `\n${ctx.t("tokens-more-pieces", { count: fmt(ids.length - MAX_PIECES) })}` : "";
  return `${ctx.t("tokens-pieces-title")}\n\`\`\`\n${rows.join("\n")}\n\`\`\`${more}`;
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** Model names can contain Markdown characters (gpt_4o_x); as code they are shown as written. */
const code = (s: string) => `\`${s.replaceAll("`", "")}\``;
