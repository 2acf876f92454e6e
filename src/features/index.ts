/**
 * Every feature of the bot, in the order they see updates. One grammY Composer per feature; adding one is a file
 * in this folder and a line here.
 */
import type { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { startFeature } from "./start.js";
import { askFeature } from "./ask.js";
import { resetFeature } from "./reset.js";
import { systemFeature } from "./system.js";
import { settingsFeature } from "./settings.js";
import { fallbackFeature } from "./fallback.js";
import { imageFeature } from "./image.js";
import { photoFeature } from "./photo.js";
import { weatherFeature } from "./weather.js";
import { tokensFeature } from "./tokens.js";
import { usageFeature } from "./usage.js";

export const features: Composer<BotContext>[] = [
  startFeature,
  resetFeature,
  systemFeature,
  settingsFeature,
  imageFeature,
  weatherFeature,
  tokensFeature,
  usageFeature,
  // Before ask: `/ask` on or replying to a picture goes to the vision model.
  photoFeature,
  askFeature,
  // Last: private messages nobody else handled.
  fallbackFeature,
];

/** Commands for the menu (setMyCommands), in order; descriptions come from the locale key `cmd-<name>`. */
export const menuCommands: string[] = ["start", "help", "ask", "image", "weather", "tokens", "usage", "reset"];

/** Commands only admins can use: in the menu of private chats (the user is their own admin) and of group admins. */
export const adminMenuCommands: string[] = ["system", "settings"];
