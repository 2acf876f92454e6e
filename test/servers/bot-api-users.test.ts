// What users do on the test Bot API server (replies with quotes, forwards, albums, long pastes, edits, voice notes,
// audio, round videos and documents of any size) and the media a bot sends back (sendVoice, sendAudio).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InputFile, type Api } from "grammy";
import type { Message } from "grammy/types";
import { opusDuration, splitLikeClient, type BotApiServer } from "./bot-api.js";
import { alice, bob, failure, GROUP, oggFile, startTestBed } from "./bot-api-testing.js";
import { solidPng } from "./openai.js";

let server: BotApiServer;
let api: Api;

beforeEach(async () => {
  ({ server, api } = await startTestBed());
});
afterEach(() => server.close());

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

describe("entities Telegram adds", () => {
  it("marks http(s) links as url entities, without trailing punctuation or an unbalanced parenthesis", () => {
    const text = "/ask read https://example.com/a?b=1, then (see http://intranet.local/wiki_(x)) and https://x.org/y.";
    const msg = server.userSends({ chat: GROUP, from: alice, text });
    const urls = (msg.entities ?? []).filter((e) => e.type === "url").map((e) => text.slice(e.offset, e.offset + e.length));
    expect(urls).toEqual(["https://example.com/a?b=1", "http://intranet.local/wiki_(x)", "https://x.org/y"]);
    expect(msg.entities![0]).toEqual({ type: "bot_command", offset: 0, length: 4 });
    const caption = server.userSends({ chat: GROUP, from: alice, document: { bytes: bytes(10), file_name: "a.txt", mime_type: "text/plain" }, caption: "from http://127.0.0.1:8080/page" });
    expect(caption.caption_entities).toEqual([{ type: "url", offset: 5, length: 26 }]);
  });
});

describe("replies, quotes and forwards", () => {
  it("replies to another user's message with a partial quote", async () => {
    const original = server.userSends({ chat: GROUP, from: bob, text: "The meeting is at 10 in room B" });
    const reply = server.userSends({ chat: GROUP, from: alice, text: "/ask where?", replyTo: original.message_id, quote: { text: "room B" } });
    expect(reply.reply_to_message).toMatchObject({ message_id: original.message_id, from: { id: bob.id }, text: original.text });
    expect(reply.quote).toEqual({ text: "room B", position: 24, is_manual: true });
    expect(() => server.userSends({ chat: GROUP, from: alice, text: "x", replyTo: original.message_id, quote: { text: "room C" } })).toThrow(/not in message/);
    // A quote keeps the formatting entities inside it (cut to it, relative to it) and drops the others.
    const styled = server.userSends({
      chat: GROUP,
      from: bob,
      text: "see https://x.org for the big plan",
      entities: [{ type: "url", offset: 4, length: 13 }, { type: "bold", offset: 22, length: 12 }],
    });
    const quoting = server.userSends({ chat: GROUP, from: alice, text: "why?", replyTo: styled.message_id, quote: { text: "x.org for the big" } });
    expect(quoting.quote).toEqual({ text: "x.org for the big", position: 12, is_manual: true, entities: [{ type: "bold", offset: 10, length: 7 }] });

    // The bot's quote must be found too.
    const quoted = await api.sendMessage(GROUP, "Room B it is", { reply_parameters: { message_id: original.message_id, quote: "at 10" } });
    expect(quoted.quote).toMatchObject({ text: "at 10", position: 15 });
    const wrong = await failure(api.sendMessage(GROUP, "x", { reply_parameters: { message_id: original.message_id, quote: "at 11" } }));
    expect(wrong.description).toBe("Bad Request: QUOTE_TEXT_INVALID");
  });

  it("forwards messages with each kind of origin", () => {
    server.addChat({ id: -100321, type: "channel", title: "Daily", username: "daily" });
    const origins = [
      { type: "user", user: bob },
      { type: "hidden_user", sender_user_name: "Someone" },
      { type: "chat", chat: GROUP, author_signature: "Admin" },
      { type: "channel", chat: -100321, message_id: 55 },
    ] as const;
    const sent = origins.map((forwardOrigin) => server.userSends({ chat: alice.id, from: alice, text: "fwd", forwardOrigin }));
    expect(sent.map((m) => m.forward_origin)).toEqual([
      { type: "user", date: expect.any(Number), sender_user: expect.objectContaining({ id: bob.id, is_bot: false }) },
      { type: "hidden_user", date: expect.any(Number), sender_user_name: "Someone" },
      { type: "chat", date: expect.any(Number), sender_chat: expect.objectContaining({ id: GROUP, type: "supergroup" }), author_signature: "Admin" },
      { type: "channel", date: expect.any(Number), chat: expect.objectContaining({ id: -100321, type: "channel" }), message_id: 55 },
    ]);
  });
});

describe("albums, pastes and edits", () => {
  it("sends an album as several messages with one media_group_id, one update each, the caption on the first", () => {
    const album = server.userSendsAlbum({
      chat: alice.id,
      from: alice,
      caption: "compare these",
      items: [{ photo: solidPng({ width: 64, height: 48 }, "a") }, { photo: solidPng({ width: 64, height: 48 }, "b") }, { document: { bytes: bytes(10), file_name: "notes.pdf", mime_type: "application/pdf" } }],
    });
    expect(album).toHaveLength(3);
    expect(new Set(album.map((m) => m.media_group_id)).size).toBe(1);
    expect(album[0]!.media_group_id).toEqual(expect.any(String));
    expect(album.map((m) => m.caption)).toEqual(["compare these", undefined, undefined]);
    expect(album[2]!.document).toMatchObject({ file_name: "notes.pdf" });
    expect(server.pendingUpdates()).toHaveLength(3);
  });

  it("splits a long paste the way clients do: under 4096 code units each, at a break near the end, never inside a surrogate pair", () => {
    const paragraph = "word ".repeat(150).trim();
    const text = Array.from({ length: 12 }, () => paragraph).join("\n\n");
    const parts = server.userPastes({ chat: alice.id, from: alice, text });
    expect(parts).toHaveLength(3);
    // Every part but the last is cut near the limit, at a paragraph break when there is one near it.
    expect(parts.every((m) => m.text!.length <= 4096)).toBe(true);
    expect(parts.slice(0, -1).every((m) => m.text!.length >= 3596)).toBe(true);
    expect(parts.map((m) => m.text).join("\n\n")).toBe(text);
    // No paragraph break near the limit: cut at a word break, still near it.
    const words = splitLikeClient("word ".repeat(2000).trim());
    expect(words[0]!.length).toBeGreaterThanOrEqual(3596);
    expect(words.join(" ")).toBe("word ".repeat(2000).trim());
    const emoji = splitLikeClient("😀".repeat(3000));
    expect(emoji.every((p) => p.length <= 4096 && !/[\ud800-\udbff]$/.test(p))).toBe(true);
    expect(emoji.join("")).toBe("😀".repeat(3000));
    expect(splitLikeClient("short")).toEqual(["short"]);
  });

  it("delivers whatever data the client had, even when the keyboard no longer has that button", async () => {
    const panel = await api.sendMessage(alice.id, "pick", { reply_markup: { inline_keyboard: [[{ text: "Old", callback_data: "old" }]] } });
    await api.editMessageReplyMarkup(alice.id, panel.message_id, { reply_markup: { inline_keyboard: [[{ text: "New", callback_data: "new" }]] } });
    const id = server.userPresses({ chat: alice.id, from: alice, messageId: panel.message_id, data: "old" });
    expect(server.pendingUpdates().at(-1)).toMatchObject({ callback_query: { id, data: "old", message: { reply_markup: { inline_keyboard: [[{ callback_data: "new" }]] } } } });
  });

  it("edits a user's message: edited_message with edit_date and the new text", () => {
    const msg = server.userSends({ chat: alice.id, from: alice, text: "what is 2+2?" });
    const edited = server.userEdits({ chat: alice.id, messageId: msg.message_id, text: "what is 2+3?" });
    expect(edited).toMatchObject({ message_id: msg.message_id, text: "what is 2+3?" });
    expect(edited.edit_date).toBeGreaterThan(msg.date);
    expect(server.pendingUpdates().at(-1)).toMatchObject({ edited_message: { message_id: msg.message_id, text: "what is 2+3?" } });
    expect(server.message(alice.id, msg.message_id)!.editHistory).toHaveLength(1);
  });
});

describe("voice, audio, video notes and documents", () => {
  it("receives voice notes, audio and round videos with their durations, downloadable", async () => {
    const voice = server.userSends({ chat: alice.id, from: alice, voice: { bytes: oggFile(3), duration: 3 } });
    expect(voice.voice).toMatchObject({ duration: 3, mime_type: "audio/ogg", file_size: oggFile(3).length });
    const audio = server.userSends({ chat: alice.id, from: alice, audio: { bytes: bytes(50), duration: 200, file_name: "song.mp3", mime_type: "audio/mpeg", title: "Song" } });
    expect(audio.audio).toMatchObject({ duration: 200, file_name: "song.mp3", title: "Song" });
    const round = server.userSends({ chat: alice.id, from: alice, videoNote: { bytes: bytes(80), duration: 9, length: 240 } });
    expect(round.video_note).toMatchObject({ duration: 9, length: 240, file_size: 80 });
    const file = await api.getFile(voice.voice!.file_id);
    const res = await fetch(`${server.apiRoot}/file/bot${server.token}/${file.file_path}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(oggFile(3));
  });

  it("reports a big document's size but refuses getFile over 20 MB", async () => {
    const big = server.userSends({ chat: alice.id, from: alice, document: { bytes: bytes(21 * 1024 * 1024), file_name: "scan.pdf", mime_type: "application/pdf" } });
    expect(big.document).toMatchObject({ file_size: 21 * 1024 * 1024, mime_type: "application/pdf" });
    expect((await failure(api.getFile(big.document!.file_id))).description).toBe("Bad Request: file is too big");
    const odd = server.userSends({ chat: alice.id, from: alice, document: { bytes: bytes(5), file_name: "data.xyz", mime_type: "application/x-strange" } });
    expect((await api.getFile(odd.document!.file_id)).file_size).toBe(5);
  });

  it("sends OGG/Opus as a voice note with the duration read from the file, and other audio as a document", async () => {
    server.limits.perChat = { max: 100, windowMs: 1000 };
    const sent = await api.sendVoice(alice.id, new InputFile(oggFile(4), "answer.ogg"), { caption: "spoken" });
    expect(sent.voice).toMatchObject({ duration: 4, mime_type: "audio/ogg" });
    expect(sent.caption).toBe("spoken");
    expect(opusDuration(server.fileBytes(sent.voice.file_id)!)).toBe(4);
    const vorbis: Message = await api.sendVoice(alice.id, new InputFile(oggFile(4, "Vorbis"), "answer.ogg"));
    expect(vorbis.voice).toBeUndefined();
    expect(vorbis.document).toMatchObject({ file_name: "answer.ogg" });
    const wav: Message = await api.sendVoice(alice.id, new InputFile(new TextEncoder().encode("RIFF....WAVEfmt "), "a.wav"));
    expect(wav.document).toMatchObject({ mime_type: "audio/wav" });
    const given = await api.sendVoice(alice.id, new InputFile(oggFile(4), "x.ogg"), { duration: 5 });
    expect(given.voice.duration).toBe(5);
    const audio = await api.sendAudio(alice.id, new InputFile(bytes(30), "tune.mp3"), { duration: 61, performer: "Bot", title: "Tune" });
    expect(audio.audio).toMatchObject({ duration: 61, performer: "Bot", title: "Tune", file_name: "tune.mp3", mime_type: "audio/mpeg" });
    expect((await failure(api.sendVoice(alice.id, new InputFile(new Uint8Array(0), "e.ogg")))).description).toBe("Bad Request: file must be non-empty");
  });
});
