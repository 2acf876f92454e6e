import { Composer, InlineKeyboard } from "grammy";
import type { BotContext } from "../bot/context.js";
import { isChatAdmin } from "../bot/chat-admin.js";
import { editPressedPanel, replyToSender, sendFormatted } from "../bot/reply.js";
import { effectiveModel } from "../services/models.js";
import type { ChatSettings } from "../storage/settings.js";
import type { FormattedText } from "../telegram/formatted-text.js";
import { markdownToEntities } from "../telegram/markdown.js";

/**
 * /settings: an inline keyboard for admins (a private chat's user) to pick the model from ALLOWED_MODELS, shared or
 * per-member history in groups, the language of the bot's own texts, and whether voice notes get a spoken answer too. Every press is checked again: anyone in
 * the group can press the buttons, only admins change anything.
 */
export const settingsFeature = new Composer<BotContext>();

const CHECK = "✓ ";
const mark = (on: boolean, label: string) => (on ? CHECK + label : label);

function render(ctx: BotContext, settings: ChatSettings): { text: FormattedText; keyboard: InlineKeyboard } {
  const group = ctx.chat!.type !== "private";
  const model = effectiveModel(ctx.deps.config, settings);
  const mode = settings.historyMode ?? "shared";
  const language = settings.language ?? "auto";
  const voice = settings.voiceReplies === true;
  const lines = [
    ctx.t("settings-title"),
    ctx.t("settings-model", { model: `\`${model}\`` }),
    ...(group ? [ctx.t("settings-history", { mode })] : []),
    ctx.t("settings-language", { language }),
    ctx.t("settings-voice", { voice: voice ? "on" : "off" }),
    "",
    ctx.t("settings-tap"),
  ];
  const keyboard = new InlineKeyboard();
  // Buttons carry the model's index, not its name: callback data is limited to 64 bytes.
  ctx.deps.config.allowedModels.forEach((name, i) => {
    keyboard.text(mark(name === model, name), `set:model:${i}`);
    if (i % 2 === 1) keyboard.row();
  });
  keyboard.row();
  if (group) {
    keyboard
      .text(mark(mode === "shared", ctx.t("settings-button-shared")), "set:hist:shared")
      .text(mark(mode === "per-user", ctx.t("settings-button-per-user")), "set:hist:per-user")
      .row();
  }
  keyboard
    .text(mark(language === "auto", ctx.t("settings-button-auto")), "set:lang:auto")
    .text(mark(language === "en", "English"), "set:lang:en")
    .text(mark(language === "zh", "中文"), "set:lang:zh")
    .row()
    .text(mark(voice, ctx.t("settings-button-voice-on")), "set:voice:on")
    .text(mark(!voice, ctx.t("settings-button-voice-off")), "set:voice:off");
  return { text: markdownToEntities(lines.join("\n")), keyboard };
}

settingsFeature.command("settings", async (ctx) => {
  if (!(await isChatAdmin(ctx))) return replyToSender(ctx, ctx.t("admin-only"));
  // In groups only the admin who asked sees the panel (where the server allows it): it is theirs to work with.
  const { text, keyboard } = render(ctx, await ctx.chatSettings());
  await sendFormatted(ctx, text, { replyMarkup: keyboard, onlyToSender: true });
});

/** The change a button asks for, or undefined when it no longer exists (e.g. the model list was changed). */
function patchFor(ctx: BotContext, what: string, value: string): Partial<ChatSettings> | undefined {
  const { config } = ctx.deps;
  switch (what) {
    case "model": {
      const model = /^\d+$/.test(value) ? config.allowedModels[Number(value)] : undefined;
      if (!model) return undefined;
      // The configured model is stored as "no choice", so the chat follows OPENAI_MODEL if the operator changes it.
      return { model: model === config.openai.model ? undefined : model };
    }
    case "hist":
      if (ctx.chat?.type === "private") return undefined;
      return value === "shared" || value === "per-user" ? { historyMode: value === "shared" ? undefined : value } : undefined;
    case "lang":
      if (value === "auto") return { language: undefined };
      return value === "en" || value === "zh" ? { language: value } : undefined;
    case "voice":
      // Off is the default, stored as no choice.
      return value === "on" ? { voiceReplies: true } : value === "off" ? { voiceReplies: undefined } : undefined;
    default:
      return undefined;
  }
}

settingsFeature.callbackQuery(/^set:(model|hist|lang|voice):(.+)$/, async (ctx) => {
  const chat = ctx.chat;
  if (!chat) return ctx.answerCallbackQuery();
  if (!(await isChatAdmin(ctx))) {
    return ctx.answerCallbackQuery({ text: ctx.t("admin-only-button"), show_alert: true });
  }
  const patch = patchFor(ctx, ctx.match[1]!, ctx.match[2]!);
  if (!patch) return ctx.answerCallbackQuery({ text: ctx.t("settings-unavailable") });
  const settings = await ctx.updateChatSettings(patch);
  ctx.log.info({ chatId: chat.id, patch }, "chat settings changed");
  // The language may just have changed: the confirmation and the refreshed message use the new one.
  if ("language" in patch) await ctx.i18n.renegotiateLocale();
  const { text, keyboard } = render(ctx, settings);
  // A failure only leaves the keyboard stale: the setting is saved, so the press is still confirmed.
  await editPressedPanel(ctx, text, keyboard);
  await ctx.answerCallbackQuery({ text: ctx.t("settings-saved") });
});
