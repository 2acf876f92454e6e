/**
 * Every feature of the bot, in the order they see updates. One grammY Composer per feature; adding one is a file
 * in this folder and a line here. The composition root (src/app.ts) hands both lists to the bot; no feature imports
 * another (what two features share lives in src/bot or below).
 */
import type { Composer } from "grammy";
import type { CommandMenu } from "../bot/command-menus.js";
import type { BotContext } from "../bot/context.js";
import { startFeature } from "./start.js";
import { askFeature } from "./ask.js";
import { editFeature } from "./edit.js";
import { resetFeature } from "./reset.js";
import { systemFeature } from "./system.js";
import { settingsFeature } from "./settings.js";
import { personaFeature } from "./persona.js";
import { fallbackFeature } from "./fallback.js";
import { imageFeature } from "./image.js";
import { photoFeature } from "./photo.js";
import { weatherFeature } from "./weather.js";
import { tokensFeature } from "./tokens.js";
import { usageFeature } from "./usage.js";
import { documentsFeature } from "./documents.js";
import { knowledgeFeature } from "./knowledge.js";
import { voiceFeature } from "./voice.js";
import { sayFeature } from "./say.js";
import { inlineFeature } from "./inline.js";
import { guestFeature } from "./guest.js";
import { retryFeature } from "./retry.js";

export const features: Composer<BotContext>[] = [
  startFeature,
  retryFeature,
  resetFeature,
  systemFeature,
  settingsFeature,
  personaFeature,
  imageFeature,
  weatherFeature,
  tokensFeature,
  usageFeature,
  knowledgeFeature,
  sayFeature,
  // Inline queries, chosen inline results and guest messages: answers in a message outside any chat history.
  inlineFeature,
  guestFeature,
  // Before ask: `/ask` replying to a voice note, audio or video note transcribes it first.
  voiceFeature,
  // Before ask: `/ask` on or replying to a picture goes to the vision model, to a document to the documents feature.
  photoFeature,
  documentsFeature,
  askFeature,
  // Edited questions (edited_message only: no other feature sees those).
  editFeature,
  // Last: private messages nobody else handled.
  fallbackFeature,
];

/**
 * The command menu (setMyCommands), in order; descriptions come from the locale key `cmd-<name>`. Admin commands
 * show in private chats (the user is their own admin) and to group admins.
 */
export const commandMenu: CommandMenu = {
  everyone: ["start", "help", "ask", "image", "say", "transcribe", "weather", "tokens", "usage", "persona", "knowledge", "stop", "retry", "reset"],
  admins: ["system", "settings", "learn", "forget"],
};
