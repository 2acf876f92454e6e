/**
 * Voice end to end: real espeak-ng voice notes, MP3 files and MP4 round videos sent by users, downloaded from the Bot
 * API test server, transcribed by the OpenAI test server (which checks the bytes and the file name, measures the
 * audio and hears silence), answered with the transcript quoted; /transcribe, group rules, the limits checked before
 * anything is downloaded, /say and spoken answers as real OGG/Opus voice messages, and what all of it costs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatCalls, newGroup, newPrivateChat, say, startHarness, type Harness } from "../helpers/harness.js";
import { audioKind, opusDuration, type Call } from "../servers/bot-api.js";
import { audioKey } from "../servers/openai/transcriptions.js";
import { makeSilence, makeSpeech } from "../fixtures/audio.js";
import { makeVideoNote } from "../fixtures/video-note.js";
import { historyKey } from "../../src/storage/history.js";

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ env: { VOICE_MAX_SECONDS: "60" } });
});
afterAll(() => h.close());

const BOT = "test_ai_bot";

/** A voice note of `text`, spoken by espeak-ng, with the transcript the test OpenAI server will hear. */
async function voiceNote(text: string): Promise<{ bytes: Uint8Array; duration: number }> {
  const clip = await makeSpeech(text);
  h.openai.addTranscript(clip.bytes, text);
  return { bytes: clip.bytes, duration: Math.ceil(clip.durationSeconds) };
}

const callsSince = (from: number, method: string): Call[] => h.telegram.calls.slice(from).filter((c) => c.method === method);
const chatRequestsSince = (from: number) => h.openai.chatRequests().slice(from);

describe("voice in", () => {
  it("answers a private voice note with the transcript quoted first, and keeps the transcript in history", async () => {
    const { user, chat } = newPrivateChat(h);
    const question = "What is the capital of France?";
    const voice = await voiceNote(question);
    h.openai.enqueue({ text: "The capital of France is **Paris**." });
    const chats = h.openai.chatRequests().length;
    const transcriptions = h.openai.transcriptionRequests().length;
    await say(h, { chat: chat.id, from: user, voice });

    const [request] = h.openai.transcriptionRequests().slice(transcriptions);
    expect(request).toMatchObject({ model: "gpt-4o-mini-transcribe", file: { filename: "voice.ogg", sha256: audioKey(voice.bytes) } });
    const [asked] = chatRequestsSince(chats);
    expect(asked!.messages.at(-1)).toEqual({ role: "user", content: question });

    const [answer] = h.telegram.botMessages(chat.id);
    expect(answer!.text).toBe(`🎤 ${question}\n\nThe capital of France is Paris.`);
    expect(answer!.entities).toEqual(
      expect.arrayContaining([
        { type: "expandable_blockquote", offset: 0, length: `🎤 ${question}`.length },
        { type: "bold", offset: answer!.text!.indexOf("Paris"), length: 5 },
      ]),
    );
    const stored = await h.app.deps.history.load(historyKey(chat.id));
    expect(stored.map((t) => [t.role, t.content])).toEqual([
      ["user", question],
      ["assistant", "The capital of France is **Paris**."],
    ]);

    // A follow-up by text sees the transcript as the earlier question.
    h.openai.enqueue({ text: "About two million people." });
    await say(h, { chat: chat.id, from: user, text: "How many people live there?" });
    expect(h.openai.chatRequests().at(-1)!.messages.slice(1).map((m) => m.content)).toEqual([
      question,
      "The capital of France is **Paris**.",
      "How many people live there?",
    ]);
  });

  it("transcribes an MP3 audio file and an MP4 round video (the caption asked along)", async () => {
    const { user, chat } = newPrivateChat(h);
    const memo = await makeSpeech("Buy milk and eggs.", { format: "mp3" });
    h.openai.addTranscript(memo.bytes, "Buy milk and eggs.");
    h.openai.enqueue({ text: "Milk and eggs: noted." });
    const transcriptions = h.openai.transcriptionRequests().length;
    const chats = h.openai.chatRequests().length;
    await say(h, {
      chat: chat.id,
      from: user,
      audio: { bytes: memo.bytes, duration: Math.ceil(memo.durationSeconds), file_name: "memo.mp3", mime_type: "audio/mpeg" },
      caption: "Make a list of this",
    });
    expect(h.openai.transcriptionRequests()[transcriptions]).toMatchObject({ file: { filename: "audio.mp3", sha256: audioKey(memo.bytes) } });
    expect(chatRequestsSince(chats)[0]!.messages.at(-1)!.content).toBe("Make a list of this\n\nBuy milk and eggs.");
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("🎤 Buy milk and eggs.\n\nMilk and eggs: noted.");

    const video = await makeVideoNote("Hello from a round video.");
    h.openai.addTranscript(video.bytes, "Hello from a round video.");
    h.openai.enqueue({ text: "Hello to you too." });
    await say(h, { chat: chat.id, from: user, videoNote: { bytes: video.bytes, duration: Math.ceil(video.durationSeconds) } });
    expect(h.openai.transcriptionRequests().at(-1)).toMatchObject({ file: { filename: "video.mp4", sha256: audioKey(video.bytes) } });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("🎤 Hello from a round video.\n\nHello to you too.");
  });

  it("/transcribe only transcribes, in a group too", async () => {
    const { user, chat } = newGroup(h);
    const text = "The meeting moved to Thursday at ten.";
    const voice = await voiceNote(text);
    const note = h.telegram.userSends({ chat: chat.id, from: user, voice });
    await h.app.whenHandled(h.app.handled + 1);
    const chats = h.openai.chatRequests().length;
    await say(h, { chat: chat.id, from: user, text: "/transcribe", replyTo: note.message_id });
    expect(h.openai.chatRequests().length).toBe(chats);
    const reply = h.telegram.botMessages(chat.id).at(-1)!;
    expect(reply.text).toBe(text);
    expect(reply.reply_to_message_id).toBeDefined();

    await say(h, { chat: chat.id, from: user, text: "/transcribe" });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toMatch(/^Reply to a voice note/);
  });

  it("in groups, listens only when addressed: a caption mention, /ask or a mention replying to the voice note", async () => {
    const { user, chat } = newGroup(h);
    const voice = await voiceNote("Is it going to rain today?");
    const transcriptions = h.openai.transcriptionRequests().length;
    const plain = h.telegram.userSends({ chat: chat.id, from: user, voice });
    await h.app.whenHandled(h.app.handled + 1);
    expect(h.openai.transcriptionRequests().length).toBe(transcriptions);
    expect(h.telegram.botMessages(chat.id)).toEqual([]);

    h.openai.setDefault(() => ({ text: "Probably not." }));
    try {
      await say(h, { chat: chat.id, from: user, voice, caption: `@${BOT} please` });
      await say(h, { chat: chat.id, from: user, text: "/ask short answer", replyTo: plain.message_id });
      await say(h, { chat: chat.id, from: user, text: `@${BOT} what do you think?`, replyTo: plain.message_id });
    } finally {
      h.openai.setDefault(() => ({ text: "ok" }));
    }
    expect(h.openai.transcriptionRequests().length).toBe(transcriptions + 3);
    const questions = h.openai.chatRequests().slice(-3).map((r) => r.messages.at(-1)!.content);
    expect(questions).toEqual([
      expect.stringMatching(/please\n\nIs it going to rain today\?$/),
      expect.stringMatching(/short answer\n\nIs it going to rain today\?$/),
      expect.stringMatching(/what do you think\?\n\nIs it going to rain today\?$/),
    ]);
    const answers = h.telegram.botMessages(chat.id);
    expect(answers).toHaveLength(3);
    for (const answer of answers) expect(answer.text).toBe("🎤 Is it going to rain today?\n\nProbably not.");
  });

  it("refuses recordings over VOICE_MAX_SECONDS or 20 MB before downloading anything, and unknown formats", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.telegram.calls.length;
    const voice = await voiceNote("Too long to listen to.");
    await say(h, { chat: chat.id, from: user, voice: { ...voice, duration: 61 } });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("This recording is too long for me: at most 1 min (60 s). Please send a shorter one.");

    const huge = new Uint8Array(20 * 1024 * 1024 + 1);
    huge.set(voice.bytes);
    await say(h, { chat: chat.id, from: user, audio: { bytes: huge, duration: 30, file_name: "long.mp3", mime_type: "audio/mpeg" } });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toBe("This file is too large for me to download (Telegram lets bots fetch at most 20 MB).");

    await say(h, { chat: chat.id, from: user, audio: { bytes: voice.bytes, duration: 3, file_name: "talk.wma", mime_type: "audio/x-ms-wma" } });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toMatch(/^I can't read this audio format\./);
    expect(callsSince(from, "getFile")).toEqual([]);

    // A file that says it is MP3 but is not audio: the transcription endpoint refuses it, and the user hears why.
    const transcriptions = h.openai.transcriptionRequests().length;
    await say(h, { chat: chat.id, from: user, audio: { bytes: new TextEncoder().encode("not audio at all"), duration: 3, file_name: "fake.mp3", mime_type: "audio/mpeg" } });
    expect(h.openai.transcriptionRequests().length).toBe(transcriptions + 1);
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toMatch(/^I can't read this audio format\./);
  });

  it("says it heard nothing in silence, in English and in Chinese", async () => {
    const silence = await makeSilence(2);
    for (const [language, expected] of [
      ["en", "I couldn't hear anything in this recording."],
      ["zh", "这段录音里我什么也没听到。"],
    ] as const) {
      const { user, chat } = newPrivateChat(h, { language_code: language });
      const chats = h.openai.chatRequests().length;
      await say(h, { chat: chat.id, from: user, voice: { bytes: silence.bytes, duration: 2 } });
      expect(h.telegram.botMessages(chat.id).map((m) => m.text)).toEqual([expected]);
      expect(h.openai.chatRequests().length).toBe(chats);
    }
  });
});

describe("voice out", () => {
  it("/say sends a real OGG/Opus voice message while showing record_voice, and /say replying to a message reads it", async () => {
    const { user, chat } = newPrivateChat(h);
    const from = h.telegram.calls.length;
    await say(h, { chat: chat.id, from: user, text: "/say Good morning, everyone." });
    expect(h.openai.speechRequests().at(-1)).toMatchObject({ model: "gpt-4o-mini-tts", voice: "alloy", input: "Good morning, everyone.", response_format: "opus" });
    expect(callsSince(from, "sendChatAction").map((c) => c.params.action)).toContain("record_voice");
    const [sent] = h.telegram.botMessages(chat.id);
    expect(sent!.voice).toMatchObject({ mime_type: "audio/ogg" });
    const bytes = h.telegram.fileBytes(sent!.voice!.file_id)!;
    expect(audioKind(bytes)).toBe("ogg-opus");
    // The duration the bot gave sendVoice: the file's length rounded up (the server's own reading rounds).
    expect(sent!.voice!.duration).toBeGreaterThanOrEqual(Math.max(1, opusDuration(bytes)));
    expect(sent!.voice!.duration).toBeLessThanOrEqual(opusDuration(bytes) + 1);

    const earlier = h.telegram.userSends({ chat: chat.id, from: user, text: "Read me this line." });
    await h.app.whenHandled(h.app.handled + 1);
    await say(h, { chat: chat.id, from: user, text: "/say", replyTo: earlier.message_id });
    expect(h.openai.speechRequests().at(-1)!.input).toBe("Read me this line.");

    await say(h, { chat: chat.id, from: user, text: "/say" });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toMatch(/^Usage: \/say text/);
    await say(h, { chat: chat.id, from: user, text: `/say ${"a".repeat(4097)}` });
    expect(h.telegram.botMessages(chat.id).at(-1)!.text).toMatch(/4,097 characters, at most 4,096/);
  });

  it("answers voice with voice when the chat's setting says so: the text answer, then its first part spoken", async () => {
    const { user, chat } = newPrivateChat(h);
    await say(h, { chat: chat.id, from: user, text: "/settings" });
    const menu = h.telegram.botMessages(chat.id).at(-1)!;
    expect(menu.text).toContain("Voice notes: answered in text");
    h.telegram.userPresses({ chat: chat.id, from: user, messageId: menu.message_id, data: "set:voice:on" });
    await h.app.whenHandled(h.app.handled + 1);
    expect(h.telegram.message(chat.id, menu.message_id)!.text).toContain("Voice notes: answered in text and in a voice message");

    const voice = await voiceNote("Tell me a short story.");
    const story = `Once upon a time **a cat** learned to code.\n\n\`\`\`js\nconsole.log("meow");\n\`\`\`\n\n${"And it lived happily ever after. ".repeat(60)}`;
    h.openai.enqueue({ text: story });
    await say(h, { chat: chat.id, from: user, voice });
    const [answer, spoken] = h.telegram.botMessages(chat.id).slice(-2);
    expect(answer!.text).toMatch(/^🎤 Tell me a short story\.\n\nOnce upon a time a cat learned to code\./);
    expect(spoken!.voice).toBeDefined();
    expect(spoken!.reply_to_message_id).toBe(answer!.message_id);
    expect(spoken!.caption).toBe("The beginning of the answer; the whole of it is in the text above.");
    const input = h.openai.speechRequests().at(-1)!.input;
    expect(input).toMatch(/^Once upon a time a cat learned to code\.\n\n\(code: see the text answer\)\n\nAnd it lived happily/);
    expect(input).not.toContain("**");
    expect(input).not.toContain("console.log");
    expect(input.length).toBeLessThanOrEqual(1500);
    expect(input).toMatch(/after\.$/);

    // Text questions still get text only.
    const voices = h.openai.speechRequests().length;
    h.openai.enqueue({ text: "Fine." });
    await say(h, { chat: chat.id, from: user, text: "And you?" });
    expect(h.openai.speechRequests().length).toBe(voices);
  });

  it("counts transcription and speech in /usage, by the minute as priced", async () => {
    const { user, chat } = newPrivateChat(h);
    const voice = await voiceNote("Count this please.");
    h.openai.enqueue({ text: "Counted." });
    await say(h, { chat: chat.id, from: user, voice });
    await say(h, { chat: chat.id, from: user, text: "/say Counted." });
    const usage = await h.app.deps.usage.get({ userId: user.id });
    const spoken = h.telegram.botMessages(chat.id).find((m) => m.voice)!.voice!.duration;
    expect(usage.today).toMatchObject({ transcribedSeconds: voice.duration, spokenSeconds: spoken, calls: 3 });
    const chatCost = usage.today.costUsd;
    const audioCost = (voice.duration / 60) * 0.003 + (spoken / 60) * 0.015;
    expect(chatCost).toBeGreaterThan(audioCost);
    await say(h, { chat: chat.id, from: user, text: "/usage" });
    const text = h.telegram.botMessages(chat.id).at(-1)!.text!;
    expect(text).toMatch(/Today: .*, 0\.\d min transcribed, 0\.\d min spoken/);
  });

  it("checks the budgets before transcribing: a refused voice note is never downloaded", async () => {
    const budget = await startHarness({ env: { DAILY_COST_LIMIT_PER_USER_USD: "0.0001" } });
    try {
      const { user, chat } = newPrivateChat(budget);
      const clip = await makeSpeech("This costs more than the budget.");
      const from = budget.telegram.calls.length;
      // 5 s of gpt-4o-mini-transcribe cost $0.00025, over the $0.0001 left.
      await say(budget, { chat: chat.id, from: user, voice: { bytes: clip.bytes, duration: 5 } });
      expect(budget.telegram.calls.slice(from).filter((c) => c.method === "getFile")).toEqual([]);
      expect(budget.openai.transcriptionRequests()).toEqual([]);
      expect(chatCalls(budget, chat.id).at(-1)!.params.text).toMatch(/daily spending limit/);
    } finally {
      await budget.close();
    }
  });
});
