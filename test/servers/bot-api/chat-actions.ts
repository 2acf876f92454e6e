// sendChatAction: "typing…" and its kin. Telegram checks the chat, the bot's right to write there, the thread and the
// action's name; chat actions are not flood-limited.
import type { Chats } from "./chats.js";
import type { Methods } from "./dispatch.js";
import { botThread } from "./forum-topics.js";
import { writableChat } from "./membership.js";
import { badRequest } from "./params.js";
import type { BotUser } from "./types.js";

const CHAT_ACTIONS = new Set([
  "typing",
  "upload_photo",
  "record_video",
  "upload_video",
  "record_voice",
  "upload_voice",
  "upload_document",
  "choose_sticker",
  "find_location",
  "record_video_note",
  "upload_video_note",
]);

export function chatActionMethods(chats: Chats, botUser: BotUser): Methods {
  return {
    sendChatAction: (p) => {
      const state = writableChat(chats, p);
      const action = p.str("action");
      if (action === undefined || action === "") throw badRequest("parameter \"action\" is required");
      if (!CHAT_ACTIONS.has(action)) throw badRequest("wrong parameter action in request");
      botThread(chats, botUser, state, p.int("message_thread_id"), undefined);
      return true;
    },
  };
}
