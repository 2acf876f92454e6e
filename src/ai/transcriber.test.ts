import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { startOpenAIServer, type OpenAIServer } from "../../test/servers/openai.js";
import { makeSpeech } from "../../test/fixtures/audio.js";
import { ModelError } from "./errors.js";
import { Transcriber, transcriptionFileName, UnsupportedAudioError } from "./transcriber.js";
import { SpeechSynthesizer, estimateSpeechSeconds } from "./speech.js";

describe("transcriptionFileName", () => {
  it("keeps a known extension, else takes the MIME type's, and refuses formats the endpoint cannot read", () => {
    expect(transcriptionFileName({ base: "audio", fileName: "Memo.M4A", mimeType: "audio/x-whatever", defaultExtension: "ogg" })).toBe("audio.m4a");
    expect(transcriptionFileName({ base: "voice", mimeType: "audio/ogg", defaultExtension: "ogg" })).toBe("voice.ogg");
    expect(transcriptionFileName({ base: "audio", fileName: "song", mimeType: "audio/mpeg; charset=binary", defaultExtension: "ogg" })).toBe("audio.mp3");
    expect(transcriptionFileName({ base: "video", defaultExtension: "mp4" })).toBe("video.mp4");
    expect(transcriptionFileName({ base: "audio", fileName: "talk.wma", mimeType: "audio/x-ms-wma", defaultExtension: "ogg" })).toBeUndefined();
    expect(transcriptionFileName({ base: "audio", fileName: "talk.amr", defaultExtension: "ogg" })).toBeUndefined();
  });
});

describe("Transcriber and SpeechSynthesizer against the OpenAI test server", () => {
  let server: OpenAIServer;
  let openai: OpenAI;
  beforeAll(async () => {
    server = await startOpenAIServer();
    openai = new OpenAI({ apiKey: server.apiKey, baseURL: server.baseURL, maxRetries: 0 });
  });
  afterAll(() => server.close());

  it("round-trips speech: spoken as OGG/Opus with its length, then transcribed back", async () => {
    const speech = await new SpeechSynthesizer({ openai, model: "gpt-4o-mini-tts", voice: "alloy" }).speak("Hello there, general.", AbortSignal.timeout(30_000));
    expect(Buffer.from(speech.bytes.subarray(0, 4)).toString()).toBe("OggS");
    expect(speech.seconds).toBeGreaterThanOrEqual(1);
    const transcript = await new Transcriber({ openai, model: "whisper-1" }).transcribe(speech.bytes, "voice.ogg", AbortSignal.timeout(30_000));
    expect(transcript.text).toBe("Hello there, general.");
    expect(estimateSpeechSeconds(120)).toBe(10);
  });

  it("tells unreadable audio apart from other failures", async () => {
    const transcriber = new Transcriber({ openai, model: "gpt-4o-mini-transcribe" });
    await expect(transcriber.transcribe(new TextEncoder().encode("not audio"), "voice.ogg", AbortSignal.timeout(10_000))).rejects.toBeInstanceOf(UnsupportedAudioError);
    const clip = await makeSpeech("Fine words.");
    server.enqueueTranscriptions({ error: { status: 500 } });
    const failure = await transcriber.transcribe(clip.bytes, "voice.ogg", AbortSignal.timeout(10_000)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ModelError);
    expect((failure as ModelError).kind).toBe("server");
  });
});
