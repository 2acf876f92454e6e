/**
 * Documents sent to the bot (PDF, Word, text, Markdown, HTML, CSV, JSON, source code), answered with their text:
 * whole when it fits the knowledge budget beside the history, otherwise the parts nearest to the question, cited by
 * page or section (bot/question-context.ts). Follow-up questions keep using the document while the question that
 * brought it is in the history.
 *
 * When the bot reads a document (as it looks at pictures, features/photo.ts; images are that feature's):
 * - private chat: any document (the caption is the question; none: "summarise it"), or a text replying to one;
 * - groups: a document whose caption mentions the bot or starts with /ask, or `/ask …` (or a mention) replying to one.
 * A file the bot cannot read gets one line saying why (bot/documents.ts).
 */
import { Composer } from "grammy";
import type { Document, Message } from "grammy/types";
import type { BotContext } from "../bot/context.js";
import { answerQuestion } from "../bot/answer.js";
import { addressedQuestion, captionQuestion, repliedTo } from "../bot/addressing.js";
import { documentErrorText, readTelegramDocument } from "../bot/documents.js";
import { linksIn } from "../bot/links.js";
import { knowledgeContext } from "../bot/question-context.js";
import { questionTools } from "../bot/question-tools.js";
import { replyMarkdown } from "../bot/reply.js";
import { withReplyContext } from "../bot/reply-context.js";
import { targetOf } from "../bot/target.js";
import { topicOptions } from "../telegram/target.js";

export const documentsFeature = new Composer<BotContext>();

const documentOf = (msg: Message | undefined): Document | undefined => msg?.document;

// `/ask` replying to a document. (Pictures were taken by the photo feature before this one.)
documentsFeature.command("ask", async (ctx, next) => {
  const document = documentOf(repliedTo(ctx.msg));
  if (!document) return next();
  await answerAboutDocument(ctx, [document], ctx.match.trim());
});

// An album of documents (or forwards with one) is one question with all of them (bot/message-joiner.ts).
documentsFeature.on("message:document", async (ctx, next) => {
  const question = captionQuestion(ctx);
  if (question === undefined) return next();
  const joined = ctx.joined && ctx.joined.kind !== "paste" ? ctx.joined.messages.map(documentOf).filter((d): d is Document => d !== undefined) : [];
  await answerAboutDocument(ctx, joined.length > 0 ? joined : [ctx.msg.document], question);
});

// A question replying to a document is about that document (in private chats any text; in groups when addressed).
documentsFeature.on("message:text", async (ctx, next) => {
  const document = documentOf(repliedTo(ctx.msg));
  if (!document) return next();
  const question = addressedQuestion(ctx);
  if (question === undefined) return next();
  await answerAboutDocument(ctx, [document], question);
});

async function answerAboutDocument(ctx: BotContext, files: Document[], question: string): Promise<void> {
  const target = targetOf(ctx);
  void ctx.fastApi.sendChatAction(target.chatId, "typing", topicOptions(target)).catch(() => undefined);
  const docs = [];
  for (const document of files) {
    try {
      docs.push(await readTelegramDocument(ctx, document, ctx.deps.shutdown));
    } catch (err) {
      const line = documentErrorText(ctx, err);
      if (!line) throw err;
      ctx.log.info({ err, fileName: document.file_name, mime: document.mime_type }, "document not read");
      return replyMarkdown(ctx, line);
    }
  }
  for (const doc of docs) ctx.log.info({ doc: doc.id, format: doc.format, tokens: doc.tokens, chunks: doc.chunkCount }, "document read");
  const titles = docs.map((doc) => `📄 ${doc.title}`).join("\n");
  await answerQuestion(ctx, {
    // What the question replies to (a message and its author, a quote) goes with it.
    text: `${titles}\n${withReplyContext(ctx, question || ctx.t("document-default-question"))}`,
    tools: questionTools(ctx),
    context: knowledgeContext(ctx, { documents: docs, links: linksIn(ctx.msg) }),
  });
}
