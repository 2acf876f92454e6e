/**
 * Photos and image documents, described (or asked about) by the vision model.
 *
 * When the bot looks at a picture:
 * - private chat: any photo or image document (the caption is the question), or a text that replies to one;
 * - groups: a photo whose caption mentions the bot or starts with /ask, a photo replying to the bot, or a message
 *   addressed to the bot (`/ask …`, a mention, a reply to the bot's own photo) that replies to a picture.
 *
 * The picture is downloaded once the call is admitted and handed to the model as bytes (src/bot/pictures.ts), never
 * as a Bot API link (it carries the token); history keeps its file_id.
 */
import { Composer } from "grammy";
import type { Document, Message, PhotoSize } from "grammy/types";
import type { BotContext } from "../bot/context.js";
import { answerQuestion } from "../bot/answer.js";
import { addressedQuestion, captionQuestion, repliedTo } from "../bot/addressing.js";
import { maxPictureBytes, pictureFailureText, type NewPicture } from "../bot/pictures.js";
import { replyMarkdown } from "../bot/reply.js";
import { withReplyContext } from "../bot/reply-context.js";
import { targetOf } from "../bot/target.js";
import { DEFAULT_MAX_PHOTO_SIDE, pickPhotoSize } from "../telegram/files.js";
import { topicOptions } from "../telegram/target.js";

export const photoFeature = new Composer<BotContext>();

/** Formats the vision models read (a GIF is seen as its first frame). */
const IMAGE_MIME_TYPES = new Set(["image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif"]);
const IMAGE_EXTENSIONS = /\.(png|jpe?g|webp|gif)$/i;

type ImageSource = { kind: "photo"; sizes: PhotoSize[] } | { kind: "document"; document: Document };

/** The picture a message carries, if any (a photo, or a document that is an image). */
function imageSourceOf(msg: Message | undefined): ImageSource | undefined {
  if (!msg) return undefined;
  if (msg.photo && msg.photo.length > 0) return { kind: "photo", sizes: msg.photo };
  // Other documents (PDF, text, …) are the documents feature's.
  if (msg.document && isImageDocument(msg.document)) return { kind: "document", document: msg.document };
  return undefined;
}

function isImageDocument(doc: Document): boolean {
  const mime = doc.mime_type?.toLowerCase();
  if (mime) return IMAGE_MIME_TYPES.has(mime);
  return IMAGE_EXTENSIONS.test(doc.file_name ?? "");
}

// `/ask` replying to a picture. Registered before the ask feature, which answers every other /ask. (grammY's command
// filter looks at message text only: `/ask` in a caption is handled with the picture below.)
photoFeature.command("ask", async (ctx, next) => {
  const source = imageSourceOf(repliedTo(ctx.msg));
  if (!source) return next();
  await answerAboutImage(ctx, [source], ctx.match.trim());
});

// An album (or forwards with pictures) is one question with all its pictures (bot/message-joiner.ts).
photoFeature.on(["message:photo", "message:document"], async (ctx, next) => {
  const messages = ctx.joined && ctx.joined.kind !== "paste" ? ctx.joined.messages : [ctx.msg];
  const sources = messages.map(imageSourceOf).filter((s): s is ImageSource => s !== undefined);
  if (sources.length === 0) return next();
  const question = captionQuestion(ctx);
  if (question === undefined) return next();
  await answerAboutImage(ctx, sources, question);
});

// A question replying to a picture is about that picture (in private chats any text; in groups when addressed).
photoFeature.on("message:text", async (ctx, next) => {
  const source = imageSourceOf(repliedTo(ctx.msg));
  if (!source) return next();
  const question = addressedQuestion(ctx);
  if (question === undefined) return next();
  await answerAboutImage(ctx, [source], question);
});

/**
 * Answers the question about the picture (default: describe it) with the vision model. Nothing is downloaded here:
 * the picture's size and tokens are known from what Telegram says, and answerQuestion fetches it once the call is
 * admitted by the rate limit and the budgets.
 */
async function answerAboutImage(ctx: BotContext, sources: ImageSource[], question: string): Promise<void> {
  const { deps } = ctx;
  const maxBytes = maxPictureBytes(ctx);
  const pictures = sources.map((source): NewPicture => {
    if (source.kind === "document") return { fileId: source.document.file_id, fileSize: source.document.file_size };
    // The largest size up to 2048 px: the model scales anything bigger down anyway.
    const size = pickPhotoSize(source.sizes, { maxSide: DEFAULT_MAX_PHOTO_SIDE, maxBytes });
    return { fileId: size.file_id, fileSize: size.file_size, width: size.width, height: size.height };
  });
  if (pictures.some((picture) => picture.fileSize !== undefined && picture.fileSize > maxBytes)) {
    return replyMarkdown(ctx, pictureFailureText(ctx, "too_big"));
  }

  const target = targetOf(ctx);
  void ctx.fastApi
    .sendChatAction(target.chatId, "typing", topicOptions(target))
    .catch(() => undefined);

  await answerQuestion(ctx, {
    // What the question replies to (a caption and its author, a quote) goes with it.
    text: withReplyContext(ctx, question || ctx.t("photo-default-question")),
    pictures,
    model: deps.config.openai.visionModel,
    seesPictures: true,
  });
}
