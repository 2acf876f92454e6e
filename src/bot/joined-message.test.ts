import { describe, expect, it } from "vitest";
import type { Message } from "grammy/types";
import { joinedMessage } from "./joined-message.js";

const chat = { id: 5, type: "private" as const, first_name: "Ann" };
const from = { id: 5, is_bot: false, first_name: "Ann" };
let id = 1;
const msg = (fields: Partial<Message>): Message => ({ message_id: id++, date: 0, chat, from, ...fields });

describe("joinedMessage", () => {
  it("joins a paste's parts into the first part, every entity moved to where its text now is", () => {
    const first = msg({ text: "see https://a.org", entities: [{ type: "url", offset: 4, length: 13 }] });
    const second = msg({ text: "and https://b.org", entities: [{ type: "url", offset: 4, length: 13 }] });
    const joined = joinedMessage({ kind: "paste", messages: [first, second] });
    expect(joined.message_id).toBe(first.message_id);
    expect(joined.text).toBe("see https://a.org\nand https://b.org");
    const urls = joined.entities!.map((e) => joined.text!.slice(e.offset, e.offset + e.length));
    expect(urls).toEqual(["https://a.org", "https://b.org"]);
  });

  it("puts the comment first (a command stays at offset 0), then each forward under its origin's name", () => {
    const comment = msg({ text: "/ask true?", entities: [{ type: "bot_command", offset: 0, length: 4 }] });
    const fromUser = msg({ text: "It rains", forward_origin: { type: "user", date: 0, sender_user: { id: 9, is_bot: false, first_name: "Bob", last_name: "Li" } } });
    const fromChannel = msg({
      text: "Sunny *all* week",
      entities: [{ type: "bold", offset: 6, length: 5 }],
      forward_origin: { type: "channel", date: 0, chat: { id: -100, type: "channel", title: "Weather" }, message_id: 3, author_signature: "Eve" },
    });
    const joined = joinedMessage({ kind: "forwards", messages: [fromUser, fromChannel, comment], comment });
    expect(joined.message_id).toBe(comment.message_id);
    expect(joined.text).toBe("/ask true?\n\nForwarded from Bob Li:\nIt rains\n\nForwarded from Weather (Eve):\nSunny *all* week");
    expect(joined.entities![0]).toEqual({ type: "bot_command", offset: 0, length: 4 });
    const bold = joined.entities![1]!;
    expect(joined.text!.slice(bold.offset, bold.offset + bold.length)).toBe("*all*");
    expect(joined.forward_origin).toBeUndefined();
  });

  it("carries a forwarded photo with the joined text as its caption, and an album as its captioned item", () => {
    const photo = [{ file_id: "p", file_unique_id: "u", width: 10, height: 10 }];
    const fwd = msg({ photo, caption: "the view", forward_origin: { type: "hidden_user", date: 0, sender_user_name: "Zed" } });
    const comment = msg({ text: "where is this?" });
    const joined = joinedMessage({ kind: "forwards", messages: [fwd, comment], comment });
    expect(joined.photo).toEqual(photo);
    expect(joined.text).toBeUndefined();
    expect(joined.caption).toBe("where is this?\n\nForwarded from Zed:\nthe view");
    const a = msg({ photo, media_group_id: "g" });
    const b = msg({ photo, media_group_id: "g", caption: "which?" });
    expect(joinedMessage({ kind: "album", messages: [a, b] })).toBe(b);
  });
});
