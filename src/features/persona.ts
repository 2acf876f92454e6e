import { Composer, InlineKeyboard } from "grammy";
import type { BotContext } from "../bot/context.js";
import { isChatAdmin } from "../bot/chat-admin.js";
import { escapeMarkdown } from "../bot/markdown-escape.js";
import { personaLocaleOf, personaOf, personaScopeOf, type PersonaScope } from "../bot/persona.js";
import { editPressedPanel, sendFormatted } from "../bot/reply.js";
import { CUSTOM_PERSONA_ID, type PersonaLocale } from "../services/personas.js";
import type { ChatSettings } from "../storage/settings.js";
import type { FormattedText } from "../telegram/formatted-text.js";
import { markdownToEntities } from "../telegram/markdown.js";

/**
 * /persona: an inline keyboard of preset system prompts (services/personas.ts), the one in force marked. A private
 * chat's user picks their own; in groups the admins pick the chat's (as for /system), and with one history per
 * member each member picks theirs. The chat's /system text stays a choice ("Custom"). Every press is checked again,
 * so an old keyboard stays valid: pressing re-applies its choice.
 */
export const personaFeature = new Composer<BotContext>();

const CHECK = "✓ ";
const mark = (on: boolean, label: string) => (on ? CHECK + label : label);
const DATA = "persona:";

/** Whether this sender may change what the keyboard changes for them. */
async function mayPick(ctx: BotContext, scope: PersonaScope): Promise<boolean> {
  return scope.kind === "member" || (await isChatAdmin(ctx));
}

async function render(ctx: BotContext, settings: ChatSettings): Promise<{ text: FormattedText; keyboard: InlineKeyboard }> {
  const scope = personaScopeOf(ctx, settings);
  const locale: PersonaLocale = await personaLocaleOf(ctx);
  const inForce = await personaOf(ctx, settings);
  const current = inForce.persona ? inForce.persona.name[locale] : ctx.t("persona-custom");
  const lines = [
    ctx.t(scope.kind === "member" ? "persona-title-member" : "persona-title-chat"),
    ctx.t("persona-current", { name: escapeMarkdown(current) }),
    "",
    ctx.t(ctx.chat?.type === "private" ? "persona-tap-private" : (await mayPick(ctx, scope)) ? "persona-tap" : "persona-tap-admins"),
  ];
  const keyboard = new InlineKeyboard();
  ctx.deps.personas.list().forEach((persona, i) => {
    keyboard.text(mark(persona.id === inForce.id, persona.name[locale]), DATA + persona.id);
    if (i % 2 === 1) keyboard.row();
  });
  // The chat's own prompt is a choice only while there is one.
  if (settings.systemPrompt) keyboard.row().text(mark(inForce.id === CUSTOM_PERSONA_ID, ctx.t("persona-custom")), DATA + CUSTOM_PERSONA_ID);
  return { text: markdownToEntities(lines.join("\n")), keyboard };
}

personaFeature.command("persona", async (ctx) => {
  const { text, keyboard } = await render(ctx, await ctx.chatSettings());
  await sendFormatted(ctx, text, { replyMarkup: keyboard });
});

personaFeature.callbackQuery(new RegExp(`^${DATA}(.*)$`), async (ctx) => {
  const chat = ctx.chat;
  if (!chat) return ctx.answerCallbackQuery();
  const { personas, personaChoices } = ctx.deps;
  let settings = await ctx.chatSettings();
  const scope = personaScopeOf(ctx, settings);
  if (!(await mayPick(ctx, scope))) return ctx.answerCallbackQuery({ text: ctx.t("persona-admin-only"), show_alert: true });

  const id = ctx.match[1]!;
  const persona = personas.get(id);
  if (id === CUSTOM_PERSONA_ID) {
    if (!settings.systemPrompt) return ctx.answerCallbackQuery({ text: ctx.t("persona-no-custom") });
  } else if (!persona) {
    return ctx.answerCallbackQuery({ text: ctx.t("persona-unknown") });
  }

  if (scope.kind === "member") {
    await personaChoices.set(scope.chatId, scope.memberId, id);
  } else {
    // "Custom" is the chat's /system text, in force when no preset is chosen.
    settings = await ctx.updateChatSettings({ persona: id === CUSTOM_PERSONA_ID ? undefined : id });
  }
  ctx.log.info({ chatId: chat.id, persona: id, scope: scope.kind }, "persona picked");
  const { text, keyboard } = await render(ctx, settings);
  await editPressedPanel(ctx, text, keyboard);
  const name = persona ? persona.name[await personaLocaleOf(ctx)] : ctx.t("persona-custom");
  await ctx.answerCallbackQuery({ text: ctx.t("persona-picked", { name }) });
});
