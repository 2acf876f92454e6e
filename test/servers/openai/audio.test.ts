// POST /v1/audio/transcriptions and /v1/audio/speech through the real openai SDK, with real audio made by espeak-ng.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import OpenAI, { toFile } from "openai";
import { fileTypeFromBuffer } from "file-type";
import { parseBuffer } from "music-metadata";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { makeSilence, makeSpeech } from "../../fixtures/audio.js";
import { solidPng, startOpenAIServer, StreamGate, type OpenAIServer } from "../openai.js";

let server: OpenAIServer;
let client: OpenAI;

beforeEach(async () => {
  server = await startOpenAIServer();
  client = new OpenAI({ apiKey: server.apiKey, baseURL: server.baseURL, maxRetries: 0 });
});

afterEach(async () => {
  await server.close();
});

const VOICE_TEXT = "Please remind me to water the plants tomorrow morning.";

describe("transcriptions", () => {
  it("answers the registered transcript of a voice note with gpt-4o-mini-transcribe's token usage", async () => {
    const clip = await makeSpeech(VOICE_TEXT);
    server.addTranscript(clip.bytes, VOICE_TEXT);
    const result = await client.audio.transcriptions.create({
      file: await toFile(clip.bytes, "voice.ogg", { type: "audio/ogg" }),
      model: "gpt-4o-mini-transcribe",
      prompt: "Reminders",
    });
    const audioTokens = Math.ceil(clip.durationSeconds * 10);
    const textTokens = countTokens("Reminders");
    expect(result).toEqual({
      text: VOICE_TEXT,
      usage: {
        type: "tokens",
        input_tokens: audioTokens + textTokens,
        input_token_details: { text_tokens: textTokens, audio_tokens: audioTokens },
        output_tokens: countTokens(VOICE_TEXT),
        total_tokens: audioTokens + textTokens + countTokens(VOICE_TEXT),
      },
    });
    const [request] = server.transcriptionRequests();
    expect(request).toMatchObject({ model: "gpt-4o-mini-transcribe", fields: { prompt: "Reminders" } });
    expect(request!.file).toMatchObject({ filename: "voice.ogg", contentType: "audio/ogg", size: clip.bytes.length });
    expect(server.requests.at(-1)!.body).toBe(request);
  });

  it("gives whisper-1 durations: usage in whole seconds, verbose_json with segments, words and the language's name", async () => {
    const clip = await makeSpeech(VOICE_TEXT);
    server.addTranscript(clip.bytes, VOICE_TEXT);
    const file = () => toFile(clip.bytes, "voice.oga");
    const json = await client.audio.transcriptions.create({ file: await file(), model: "whisper-1" });
    expect(json).toEqual({ text: VOICE_TEXT, usage: { type: "duration", seconds: Math.ceil(clip.durationSeconds) } });

    const verbose = await client.audio.transcriptions.create({
      file: await file(),
      model: "whisper-1",
      response_format: "verbose_json",
      timestamp_granularities: ["word", "segment"],
    });
    expect(verbose).toMatchObject({ task: "transcribe", language: "english", text: VOICE_TEXT, usage: { type: "duration" } });
    expect(verbose.duration).toBeCloseTo(clip.durationSeconds, 3);
    expect(verbose.segments!.map((s) => s.text.trim()).join(" ")).toBe(VOICE_TEXT);
    expect(verbose.segments!.at(-1)!.end).toBeCloseTo(clip.durationSeconds, 3);
    expect(verbose.words!.map((w) => w.word)).toEqual(VOICE_TEXT.replace(/[.,]/g, "").split(" "));

    const text = await client.audio.transcriptions.create({ file: await file(), model: "whisper-1", response_format: "text" });
    expect(text).toBe(`${VOICE_TEXT}\n`);
    const srt = await client.audio.transcriptions.create({ file: await file(), model: "whisper-1", response_format: "srt" });
    expect(srt).toMatch(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\nPlease remind me/);
  });

  it("reads MP3, WAV and FLAC uploads and their durations", async () => {
    for (const [format, name] of [["mp3", "a.mp3"], ["wav", "a.wav"], ["flac", "a.flac"]] as const) {
      const clip = await makeSpeech("Counting the seconds of this clip.", { format });
      const verbose = await client.audio.transcriptions.create({
        file: await toFile(clip.bytes, name),
        model: "whisper-1",
        response_format: "verbose_json",
      });
      expect(verbose.duration).toBeCloseTo(clip.durationSeconds, 2);
      expect(verbose.text).toMatch(/^Test transcript of \d+\.\d seconds of audio/);
    }
  });

  it("transcribes silence as empty text and Chinese with its language", async () => {
    const silence = await makeSilence(2);
    const empty = await client.audio.transcriptions.create({ file: await toFile(silence.bytes, "silence.ogg"), model: "gpt-4o-mini-transcribe" });
    expect(empty.text).toBe("");

    const zh = await makeSpeech("明天早上提醒我浇花。");
    server.addTranscript(zh.bytes, "明天早上提醒我浇花。");
    const verbose = await client.audio.transcriptions.create({ file: await toFile(zh.bytes, "voice.ogg"), model: "whisper-1", response_format: "verbose_json" });
    expect(verbose).toMatchObject({ language: "chinese", text: "明天早上提醒我浇花。" });
  });

  it("refuses what OpenAI refuses: wrong content, wrong extension, corrupt audio, over 25 MB, formats the model lacks", async () => {
    const clip = await makeSpeech(VOICE_TEXT);
    const attempt = async (file: Awaited<ReturnType<typeof toFile>>, model = "gpt-4o-mini-transcribe", extra: object = {}) =>
      client.audio.transcriptions.create({ file, model, ...extra }).catch((e: unknown) => e);

    const png = await attempt(await toFile(solidPng({ width: 4, height: 4 }), "voice.ogg"));
    expect(png).toBeInstanceOf(OpenAI.BadRequestError);
    expect((png as Error).message).toContain("Invalid file format. Supported formats: ['flac', 'm4a', 'mp3'");
    // The real API goes by the file name too: Telegram's "file_7.oga" is fine, a name without extension is not.
    expect(await attempt(await toFile(clip.bytes, "file_7.oga"))).toMatchObject({ text: expect.any(String) });
    expect(await attempt(await toFile(clip.bytes, "upload"))).toBeInstanceOf(OpenAI.BadRequestError);

    const truncatedWav = Buffer.concat([Buffer.from("RIFF"), Buffer.alloc(4), Buffer.from("WAVE"), Buffer.alloc(30)]);
    expect(await attempt(await toFile(truncatedWav, "voice.wav"))).toMatchObject({
      status: 400,
      message: "400 Audio file might be corrupted or unsupported",
      param: "file",
    });

    const huge = Buffer.alloc(25 * 1024 * 1024 + 1);
    clip.bytes.copy(huge);
    expect(await attempt(await toFile(huge, "voice.ogg"))).toMatchObject({ status: 413, message: expect.stringContaining("Maximum content size limit") });

    expect(await attempt(await toFile(clip.bytes, "voice.ogg"), "gpt-4o-mini-transcribe", { response_format: "verbose_json" })).toMatchObject({
      status: 400,
      param: "response_format",
    });
    expect(await attempt(await toFile(clip.bytes, "voice.ogg"), "whisper-2")).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("streams transcript deltas for the gpt-4o models when asked", async () => {
    const clip = await makeSpeech(VOICE_TEXT);
    server.addTranscript(clip.bytes, VOICE_TEXT);
    const stream = await client.audio.transcriptions.create({
      file: await toFile(clip.bytes, "voice.ogg"),
      model: "gpt-4o-transcribe",
      stream: true,
    });
    let deltas = "";
    let done: { text?: string; usage?: unknown } = {};
    for await (const event of stream) {
      if (event.type === "transcript.text.delta") deltas += event.delta;
      if (event.type === "transcript.text.done") done = event;
    }
    expect(deltas).toBe(VOICE_TEXT);
    expect(done).toMatchObject({ text: VOICE_TEXT, usage: { type: "tokens" } });
  });

  it("fails, holds or answers a one-off transcript on script", async () => {
    const clip = await makeSpeech(VOICE_TEXT);
    const file = () => toFile(clip.bytes, "voice.ogg");
    const gate = new StreamGate();
    server.enqueueTranscriptions({ error: { status: 500 } }, { hold: gate }, { text: "scripted words", language: "de" });
    await expect(client.audio.transcriptions.create({ file: await file(), model: "whisper-1" })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const held = client.audio.transcriptions.create({ file: await file(), model: "whisper-1" });
    await gate.reached;
    gate.release();
    expect((await held).text).toMatch(/^Test transcript/);
    const verbose = await client.audio.transcriptions.create({ file: await file(), model: "whisper-1", response_format: "verbose_json" });
    expect(verbose).toMatchObject({ text: "scripted words", language: "german" });
  });
});

describe("speech", () => {
  it("speaks the input as a real OGG/Opus file for response_format opus, which transcribes back to the input", async () => {
    const response = await client.audio.speech.create({ model: "gpt-4o-mini-tts", voice: "alloy", input: "Your tea is ready.", response_format: "opus" });
    expect(response.headers.get("content-type")).toBe("audio/ogg");
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(await fileTypeFromBuffer(bytes)).toMatchObject({ ext: "opus" });
    expect((await parseBuffer(bytes)).format.duration).toBeGreaterThan(0.5);
    expect(server.speechRequests()).toEqual([{ model: "gpt-4o-mini-tts", voice: "alloy", input: "Your tea is ready.", response_format: "opus" }]);

    const transcript = await client.audio.transcriptions.create({ file: await toFile(bytes, "speech.ogg"), model: "gpt-4o-mini-transcribe" });
    expect(transcript.text).toBe("Your tea is ready.");
  });

  it("answers MP3 by default and every other format OpenAI offers", async () => {
    const input = "Formats, formats, formats.";
    const bytesOf = async (response_format?: "mp3" | "aac" | "flac" | "wav" | "pcm") =>
      Buffer.from(await (await client.audio.speech.create({ model: "tts-1", voice: "nova", input, response_format })).arrayBuffer());
    expect((await fileTypeFromBuffer(await bytesOf()))?.ext).toBe("mp3");
    expect((await fileTypeFromBuffer(await bytesOf("aac")))?.ext).toBe("aac");
    expect((await fileTypeFromBuffer(await bytesOf("flac")))?.ext).toBe("flac");
    const wav = await bytesOf("wav");
    expect((await parseBuffer(wav)).format).toMatchObject({ container: "WAVE", sampleRate: 24000 });
    const pcm = await bytesOf("pcm");
    expect(pcm.length % 2).toBe(0);
    expect(pcm.length / 2 / 24000).toBeCloseTo((await parseBuffer(wav)).format.duration!, 1);
  });

  it("speaks slower or faster with speed", async () => {
    const duration = async (speed: number) => {
      const response = await client.audio.speech.create({ model: "tts-1", voice: "echo", input: "A sentence of some length to time.", response_format: "wav", speed });
      return (await parseBuffer(Buffer.from(await response.arrayBuffer()))).format.duration!;
    };
    expect(await duration(0.5)).toBeGreaterThan((await duration(2)) * 2);
  });

  it("refuses what OpenAI refuses", async () => {
    const attempt = (body: Record<string, unknown>) =>
      client.audio.speech.create({ model: "gpt-4o-mini-tts", voice: "alloy", input: "hi", ...body }).catch((e: unknown) => e);
    expect(await attempt({ input: "x".repeat(4097) })).toMatchObject({ status: 400, code: "string_above_max_length", param: "input" });
    expect(await attempt({ input: "" })).toMatchObject({ status: 400, param: "input" });
    expect(await attempt({ voice: "robot" })).toMatchObject({ status: 400, param: "voice" });
    expect(await attempt({ response_format: "ogg" })).toMatchObject({ status: 400, param: "response_format" });
    expect(await attempt({ speed: 5 })).toMatchObject({ status: 400, param: "speed" });
    expect(await attempt({ model: "tts-1", instructions: "cheerful" })).toMatchObject({ status: 400, param: "instructions" });
    expect(await attempt({ model: "tts-2" })).toBeInstanceOf(OpenAI.NotFoundError);
    server.enqueueSpeech({ error: { status: 429 } });
    expect(await attempt({})).toBeInstanceOf(OpenAI.RateLimitError);
  });
});
