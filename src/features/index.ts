/**
 * Every feature of the bot, in the order they see updates. One grammY Composer per feature; adding one is a file
 * in this folder and a line here.
 */
import type { Composer } from "grammy";
import type { BotContext } from "../bot/context.js";
import { startFeature } from "./start.js";
import { askFeature } from "./ask.js";
import { resetFeature } from "./reset.js";
import { fallbackFeature } from "./fallback.js";

export const features: Composer<BotContext>[] = [
  startFeature,
  resetFeature,
  askFeature,
  // Last: private messages nobody else handled.
  fallbackFeature,
];

/** Commands for the menu (setMyCommands), in order; descriptions come from the locale key `cmd-<name>`. */
export const menuCommands: string[] = ["start", "help", "ask", "reset"];
