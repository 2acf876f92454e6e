/**
 * Who wrote a message, as a name the model can use: a user's full name, a chat or channel's title (with the
 * signature of the admin who posted, when shown), or the origin of a forwarded message.
 */
import type { Chat, Message, MessageOrigin, User } from "grammy/types";

/** "First Last" (or the @username when a name is empty). */
export function userName(user: Pick<User, "first_name" | "last_name" | "username">): string {
  const name = [user.first_name, user.last_name].filter(Boolean).join(" ").trim();
  return name || (user.username ? `@${user.username}` : "someone");
}

function chatTitle(chat: Chat): string {
  if ("title" in chat && chat.title) return chat.title;
  if ("first_name" in chat && chat.first_name) return userName(chat);
  return "a chat";
}

/** Where a forwarded message came from. */
export function originName(origin: MessageOrigin): string {
  const signed = (name: string, signature: string | undefined) => (signature ? `${name} (${signature})` : name);
  switch (origin.type) {
    case "user":
      return userName(origin.sender_user);
    case "hidden_user":
      return origin.sender_user_name;
    case "chat":
      return signed(chatTitle(origin.sender_chat), origin.author_signature);
    case "channel":
      return signed(chatTitle(origin.chat), origin.author_signature);
  }
}

/** Who wrote a message: its forward origin, the chat it was sent as, or its sender. */
export function authorName(msg: Message): string {
  if (msg.forward_origin) return originName(msg.forward_origin);
  if (msg.sender_chat) return chatTitle(msg.sender_chat);
  return msg.from ? userName(msg.from) : "someone";
}
