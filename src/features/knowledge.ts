/**
 * A chat's knowledge: `/learn` keeps a document (as a reply to it) or a page (`/learn https://…`, or as a reply to a
 * message with a link) for good, embedded, so every later question in the chat retrieves from it
 * (bot/question-context.ts); `/knowledge` lists what the chat has learned (title, size, date) with a button per
 * document; `/forget N` (or the button) removes one. In groups only admins may learn and forget; per chat at most
 * KNOWLEDGE_MAX_DOCUMENTS documents and KNOWLEDGE_MAX_CHUNKS chunks.
 */
import { Composer, GrammyError, InlineKeyboard } from "grammy";
import type { BotContext } from "../bot/context.js";
import { repliedTo } from "../bot/addressing.js";
import { isChatAdmin } from "../bot/chat-admin.js";
import { documentErrorText, readLinkDocument, readTelegramDocument } from "../bot/documents.js";
import { ensureEmbedded } from "../bot/embeddings.js";
import { linksIn } from "../bot/links.js";
import { escapeMarkdown } from "../bot/markdown-escape.js";
import { modelErrorNoteKey } from "../bot/model-error-notes.js";
import { replyMarkdown, replyToSender, sendFormatted } from "../bot/reply.js";
import { targetOf } from "../bot/target.js";
import { ModelError } from "../ai/errors.js";
import type { DocumentMeta, StoredDocument } from "../storage/documents.js";
import type { FormattedText } from "../telegram/formatted-text.js";
import { markdownToEntities } from "../telegram/markdown.js";
import { topicOptions } from "../telegram/target.js";

export const knowledgeFeature = new Composer<BotContext>();

/** "512 B", "2.9 KB", "1.4 MB". */
function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const formatDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

knowledgeFeature.command("learn", async (ctx) => {
  if (!(await isChatAdmin(ctx))) return replyToSender(ctx, ctx.t("admin-only"));
  const replied = repliedTo(ctx.msg);
  const link = linksIn(ctx.msg)[0] ?? (replied && !replied.document ? linksIn(replied)[0] : undefined);
  if (!replied?.document && !link) return replyMarkdown(ctx, ctx.t("learn-usage"));
  const target = targetOf(ctx);
  void ctx.fastApi.sendChatAction(target.chatId, "typing", topicOptions(target)).catch(() => undefined);

  const { deps } = ctx;
  const { documents, vectors } = deps.knowledge;
  let doc: StoredDocument;
  try {
    doc = replied?.document ? await readTelegramDocument(ctx, replied.document, deps.shutdown) : await readLinkDocument(ctx, link!, deps.shutdown);
  } catch (err) {
    const line = documentErrorText(ctx, err, link);
    if (!line) throw err;
    return replyMarkdown(ctx, line);
  }
  const title = escapeMarkdown(doc.title);
  const learned = await documents.learned(ctx.chat.id);
  if (learned.some((d) => d.id === doc.id)) return replyMarkdown(ctx, ctx.t("learn-already", { title }));
  const { maxDocuments, maxChunks } = deps.config.knowledge;
  if (learned.length >= maxDocuments) return replyMarkdown(ctx, ctx.t("learn-limit-documents", { max: maxDocuments }));
  const used = learned.reduce((n, d) => n + d.chunkCount, 0);
  if (used + doc.chunkCount > maxChunks) {
    return replyMarkdown(ctx, ctx.t("learn-limit-chunks", { max: maxChunks, used, needed: doc.chunkCount }));
  }

  doc.learned = true;
  try {
    if (!(await ensureEmbedded(ctx, doc, deps.shutdown))) return;
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    ctx.log.warn({ err }, "embedding a document to learn failed");
    return replyMarkdown(ctx, ctx.t(modelErrorNoteKey(err)));
  }
  // Vectors made for an earlier question carried an expiry: a learned document keeps them.
  await vectors.setExpiry(doc.id, undefined);
  await documents.learn(doc);
  ctx.log.info({ chatId: ctx.chat.id, doc: doc.id, chunks: doc.chunkCount }, "document learned");
  await replyMarkdown(ctx, ctx.t("learn-done", { title, chunks: doc.chunkCount, tokens: doc.tokens }));
});

function renderList(ctx: BotContext, list: DocumentMeta[], admin: boolean): { text: FormattedText; keyboard?: InlineKeyboard } {
  if (list.length === 0) return { text: markdownToEntities(ctx.t("knowledge-empty")) };
  const lines = [
    ctx.t("knowledge-title"),
    ...list.map((d, i) =>
      ctx.t("knowledge-line", { n: i + 1, title: escapeMarkdown(d.title), size: formatSize(d.bytes), chunks: d.chunkCount, date: formatDate(d.addedAt) }),
    ),
    "",
    ctx.t("knowledge-hint", { admin: admin ? "yes" : "no" }),
  ];
  if (!admin) return { text: markdownToEntities(lines.join("\n")) };
  const keyboard = new InlineKeyboard();
  list.forEach((d, i) => {
    // Callback data is at most 64 bytes: the document id (25 characters) fits.
    keyboard.text(ctx.t("knowledge-forget-button", { n: i + 1 }), `kb:forget:${d.id}`);
    if (i % 4 === 3) keyboard.row();
  });
  return { text: markdownToEntities(lines.join("\n")), keyboard };
}

knowledgeFeature.command("knowledge", async (ctx) => {
  const list = await ctx.deps.knowledge.documents.learned(ctx.chat.id);
  const { text, keyboard } = renderList(ctx, list, await isChatAdmin(ctx));
  await sendFormatted(ctx, text, keyboard ? { replyMarkup: keyboard } : {});
});

/** Removes a learned document and its vectors; the removed one, or undefined when it was not there. */
async function forget(ctx: BotContext, id: string): Promise<DocumentMeta | undefined> {
  const { documents, vectors } = ctx.deps.knowledge;
  const gone = await documents.forget(ctx.chat!.id, id);
  if (gone) {
    await vectors.remove(id);
    ctx.log.info({ chatId: ctx.chat!.id, doc: id }, "document forgotten");
  }
  return gone;
}

knowledgeFeature.command("forget", async (ctx) => {
  if (!(await isChatAdmin(ctx))) return replyToSender(ctx, ctx.t("admin-only"));
  const arg = ctx.match.trim();
  if (!/^\d+$/.test(arg)) return replyMarkdown(ctx, ctx.t("forget-usage"));
  const n = Number(arg);
  const doc = (await ctx.deps.knowledge.documents.learned(ctx.chat.id))[n - 1];
  if (!doc) return replyMarkdown(ctx, ctx.t("forget-not-found", { n }));
  await forget(ctx, doc.id);
  await replyMarkdown(ctx, ctx.t("forget-done", { title: escapeMarkdown(doc.title) }));
});

knowledgeFeature.callbackQuery(/^kb:forget:(d[0-9a-f]{24})$/, async (ctx) => {
  if (!ctx.chat) return ctx.answerCallbackQuery();
  if (!(await isChatAdmin(ctx))) return ctx.answerCallbackQuery({ text: ctx.t("admin-only"), show_alert: true });
  const gone = await forget(ctx, ctx.match[1]!);
  const { text, keyboard } = renderList(ctx, await ctx.deps.knowledge.documents.learned(ctx.chat.id), true);
  try {
    await ctx.editMessageText(text.text, { entities: text.entities, ...(keyboard ? { reply_markup: keyboard } : {}) });
  } catch (err) {
    if (!(err instanceof GrammyError && err.description.includes("message is not modified"))) ctx.log.warn({ err }, "knowledge list not refreshed");
  }
  await ctx.answerCallbackQuery({ text: gone ? ctx.t("forget-done", { title: gone.title }) : ctx.t("forget-gone") });
});
