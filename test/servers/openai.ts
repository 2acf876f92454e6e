/**
 * A local OpenAI-compatible server for end-to-end tests, benchmarks and trying the bot by hand: the openai SDK points
 * its baseURL here and gets what the real API would send, over real HTTP.
 *
 * - POST /v1/chat/completions: scripted answers streamed as real SSE (openai/chat.ts); without a script it echoes the
 *   last user message. Every request leaves a ChatStreamRecord saying whether the client read the stream to its end or
 *   closed it early (and when); StreamGate holds an answer at a chosen point until the test releases it.
 * - POST /v1/images/generations: real PNGs (openai/images.ts).
 * - POST /v1/embeddings: deterministic hashed bag-of-words vectors (openai/embeddings.ts).
 * - POST /v1/audio/transcriptions: real audio checked and measured; registered transcripts (openai/transcriptions.ts).
 * - POST /v1/audio/speech: real speech from espeak-ng in the asked format (openai/speech.ts).
 * - GET /v1/models, and GET /files/<name> for image URLs.
 *
 * Each file under openai/ says where it is stricter or looser than OpenAI.
 */
import { startFake } from "./http-util.js";
import { OpenAIServer, type OpenAIServerOptions } from "./openai/server.js";

export {
  echoScript,
  type ChatRequestBody,
  type ChatScript,
  type ChatScriptObject,
  type ChatStreamRecord,
  type ErrorScript,
  type FinishReason,
  type HoldOptions,
  type StallScript,
  type TextScript,
  type ToolCallScript,
  type UsageOverride,
} from "./openai/chat.js";
export {
  cosineSimilarity,
  EMBEDDING_MODELS,
  embedText,
  embeddingWords,
  MAX_EMBEDDING_INPUT_TOKENS,
  MAX_EMBEDDING_INPUTS,
  MAX_EMBEDDING_REQUEST_TOKENS,
  type EmbeddingRequestBody,
} from "./openai/embeddings.js";
export { solidPng, type ImageScript, type ImageScriptObject } from "./openai/images.js";
export { StreamGate, type EndpointScript } from "./openai/lifetime.js";
export { OpenAIServer, type OpenAIServerOptions, type RecordedRequest } from "./openai/server.js";
export { MAX_SPEECH_INPUT_CHARS, type SpeechRequestBody } from "./openai/speech.js";
export {
  audioKey,
  MAX_GPT4O_TRANSCRIBE_SECONDS,
  MAX_TRANSCRIPTION_BYTES,
  TRANSCRIPTION_EXTENSIONS,
  type TranscriptEntry,
  type TranscriptionRequest,
  type TranscriptionScript,
  type UploadedAudio,
} from "./openai/transcriptions.js";

/** Starts the fake OpenAI API on 127.0.0.1 with a random port; `baseURL` ends in /v1. */
export async function startOpenAIServer(opts: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  return startFake((server, origin) => new OpenAIServer(server, origin, opts));
}
