// The Bot API `Message` object rendered from the server's record, field by field as Telegram fills it: channel posts
// have no `from` and the channel as sender_chat; messages in a topic are topic messages; a reply carries the replied
// message (without its own reply) and the quoted part; forwards their origin; automatic forwards, inline-mode
// messages (via_bot), guest queries and guest answers, albums, voice notes, audio, round videos and ephemeral
// messages (message_id 0, with the receiver and ephemeral_message_id) their fields.
import type { Chats } from "./chats.js";
import { hasTopics } from "./forum-topics.js";
import { stripUndefined, type Json } from "./json.js";
import { hasMarkup } from "./markup.js";
import type { BotUser, FakeUser, StoredMessage } from "./types.js";

const userJson = (user: FakeUser): Json => stripUndefined({ ...user, is_bot: user.is_bot ?? false });

export function renderMessage(chats: Chats, botUser: BotUser, msg: StoredMessage, withReply = true): Json {
  const state = chats.state(msg.chat_id)!;
  const isChannel = state.chat.type === "channel";
  const out: Json = { message_id: msg.ephemeral_message_id !== undefined ? 0 : msg.message_id };
  if (!isChannel) out.from = userJson(msg.from);
  if (isChannel) out.sender_chat = chats.info(state.chat);
  else if (msg.sender_chat_id !== undefined) out.sender_chat = chats.info(chats.state(msg.sender_chat_id)!.chat);
  out.chat = chats.info(state.chat);
  out.date = msg.date;
  if (msg.message_thread_id !== undefined) {
    out.message_thread_id = msg.message_thread_id;
    if (hasTopics(chats, state)) out.is_topic_message = true;
  }
  if (msg.guest_query_id !== undefined) out.guest_query_id = msg.guest_query_id;
  if (msg.receiver_user_id !== undefined) {
    out.receiver_user = userJson(chats.userOf(msg.receiver_user_id));
    out.ephemeral_message_id = msg.ephemeral_message_id;
  }
  if (msg.forward_origin) out.forward_origin = msg.forward_origin;
  if (msg.is_automatic_forward) out.is_automatic_forward = true;
  if (withReply && msg.reply_to_message_id !== undefined) {
    const replied = state.messages.get(msg.reply_to_message_id);
    if (replied) out.reply_to_message = renderMessage(chats, botUser, replied, false);
  }
  if (msg.quote) out.quote = stripUndefined({ ...msg.quote, entities: msg.quote.entities?.length ? msg.quote.entities : undefined });
  if (msg.via_bot) out.via_bot = userJson(botUser);
  if (msg.guest_bot_caller_user_id !== undefined) out.guest_bot_caller_user = userJson(chats.userOf(msg.guest_bot_caller_user_id));
  if (msg.guest_bot_caller_chat_id !== undefined) out.guest_bot_caller_chat = chats.info(chats.requireState(msg.guest_bot_caller_chat_id).chat);
  if (msg.edit_date !== undefined) out.edit_date = msg.edit_date;
  if (msg.media_group_id !== undefined) out.media_group_id = msg.media_group_id;
  if (msg.text !== undefined) out.text = msg.text;
  if (msg.entities?.length) out.entities = msg.entities;
  if (msg.photo) out.photo = msg.photo;
  if (msg.document) out.document = msg.document;
  if (msg.voice) out.voice = msg.voice;
  if (msg.audio) out.audio = msg.audio;
  if (msg.video_note) out.video_note = msg.video_note;
  if (msg.caption !== undefined) out.caption = msg.caption;
  if (msg.caption_entities?.length) out.caption_entities = msg.caption_entities;
  if (msg.forum_topic_created) out.forum_topic_created = msg.forum_topic_created;
  if (hasMarkup(msg.reply_markup)) out.reply_markup = msg.reply_markup;
  return out;
}
