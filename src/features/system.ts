import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { isChatAdmin } from "../bot/chat-admin.js";
import { replyMarkdown, sendFormatted } from "../bot/reply.js";
import { countTokens } from "../ai/tokens.js";
import { markdownToEntities } from "../telegram/markdown.js";

/** /system shows the chat's system prompt; admins set it (`/system <text>`) or go back to the default (`/system reset`). */
export const systemFeature = new Composer<BotContext>();

systemFeature.command("system", async (ctx) => {
  const { deps } = ctx;
  const text = ctx.match.trim();
  if (!text) return showSystemPrompt(ctx);

  if (!(await isChatAdmin(ctx))) return replyMarkdown(ctx, ctx.t("admin-only"));
  if (text.toLowerCase() === "reset") {
    await ctx.updateChatSettings({ systemPrompt: undefined });
    return replyMarkdown(ctx, ctx.t("system-reset-done"));
  }
  // Bounded so one chat's prompt cannot crowd out its history or run up every question's cost.
  const tokens = countTokens(text, deps.encoding);
  const max = deps.config.systemPromptMaxTokens;
  if (tokens > max) return replyMarkdown(ctx, ctx.t("system-too-long", { tokens, max }));
  await ctx.updateChatSettings({ systemPrompt: text });
  ctx.log.info({ chatId: ctx.chat.id, tokens }, "system prompt set");
  await replyMarkdown(ctx, ctx.t("system-set", { tokens }));
});

async function showSystemPrompt(ctx: BotContext): Promise<void> {
  const settings = await ctx.chatSettings();
  const custom = settings.systemPrompt;
  const head = markdownToEntities(ctx.t(custom ? "system-current-custom" : "system-current-default"));
  const hint = markdownToEntities(ctx.t("system-hint", { admin: (await isChatAdmin(ctx)) ? "yes" : "no" }));
  // The prompt itself is shown verbatim (it is the admins' text, not Markdown for Telegram), as a quote.
  const prompt = custom ?? ctx.deps.config.systemPrompt;
  const promptStart = head.text.length + 1;
  const hintStart = promptStart + prompt.length + 2;
  await sendFormatted(ctx, {
    text: `${head.text}\n${prompt}\n\n${hint.text}`,
    entities: [
      ...head.entities,
      { type: "expandable_blockquote", offset: promptStart, length: prompt.length },
      ...hint.entities.map((e) => ({ ...e, offset: e.offset + hintStart })),
    ],
  });
}
