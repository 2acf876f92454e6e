import { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { isChatAdmin } from "../bot/chat-admin.js";
import { personaLocaleOf, personaOf } from "../bot/persona.js";
import { replyMarkdown, replyToSender, sendFormatted } from "../bot/reply.js";
import { CUSTOM_PERSONA_ID } from "../services/personas.js";
import { escapeMarkdown } from "../bot/markdown-escape.js";
import { countTokens } from "../ai/tokens.js";
import { markdownToEntities } from "../telegram/markdown.js";

/** /system shows the chat's system prompt; admins set it (`/system <text>`) or go back to the default (`/system reset`). */
export const systemFeature = new Composer<BotContext>();

systemFeature.command("system", async (ctx) => {
  const { deps } = ctx;
  const text = ctx.match.trim();
  if (!text) return showSystemPrompt(ctx);

  if (!(await isChatAdmin(ctx))) return replyToSender(ctx, ctx.t("admin-only"));
  if (text.toLowerCase() === "reset") {
    await ctx.updateChatSettings({ systemPrompt: undefined });
    return replyMarkdown(ctx, ctx.t("system-reset-done"));
  }
  // Bounded so one chat's prompt cannot crowd out its history or run up every question's cost.
  const tokens = countTokens(text, deps.encoding);
  const max = deps.config.systemPromptMaxTokens;
  if (tokens > max) return replyMarkdown(ctx, ctx.t("system-too-long", { tokens, max }));
  // The admins' own text comes into force at once, in place of a persona picked before (/persona offers it as "Custom").
  await ctx.updateChatSettings({ systemPrompt: text, persona: undefined });
  ctx.log.info({ chatId: ctx.chat.id, tokens }, "system prompt set");
  await replyMarkdown(ctx, ctx.t("system-set", { tokens }));
});

async function showSystemPrompt(ctx: BotContext): Promise<void> {
  const settings = await ctx.chatSettings();
  // What is in force: the chat's own text, a persona (/persona), or the default.
  const inForce = await personaOf(ctx, settings);
  const custom = inForce.id === CUSTOM_PERSONA_ID;
  const persona = inForce.persona && inForce.id !== ctx.deps.personas.fallback.id ? inForce.persona : undefined;
  const headKey = custom ? "system-current-custom" : persona ? "system-current-persona" : "system-current-default";
  const name = persona ? escapeMarkdown(persona.name[await personaLocaleOf(ctx)]) : "";
  const head = markdownToEntities(ctx.t(headKey, { name }));
  const hint = markdownToEntities(ctx.t("system-hint", { admin: (await isChatAdmin(ctx)) ? "yes" : "no" }));
  // The prompt itself is shown verbatim (it is the admins' text, not Markdown for Telegram), as a quote.
  const prompt = inForce.prompt;
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
