// `npm start`: rebuilds first only when dist/ is older than the sources (see build-if-stale.mjs), then runs the bot
// in this same process: one Node start-up, not one for a check and another for the bot.
import { buildIfStale } from "./build-if-stale.mjs";

buildIfStale({ required: true });
await import("../dist/main.js");
