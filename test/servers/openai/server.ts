/**
 * The OpenAI test server itself: one node:http server on loopback that checks the API key as OpenAI does, records
 * every request, and hands each path to its endpoint (chat.ts, images.ts, embeddings.ts, transcriptions.ts,
 * speech.ts). What each endpoint models, and where it is stricter or looser than OpenAI, is said in its own file.
 */
import { EventEmitter, setMaxListeners } from "node:events";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { closeServer, readBody, sendJson } from "../http-util.js";
import { ChatEndpoint, type ChatRequestBody, type ChatScript, type ChatStreamRecord } from "./chat.js";
import { EMBEDDING_MODELS, EmbeddingsEndpoint, type EmbeddingRequestBody } from "./embeddings.js";
import { errorBody, maskKey } from "./errors.js";
import { ImageEndpoint, type ImageScript } from "./images.js";
import type { EndpointScript } from "./lifetime.js";
import { SpeechEndpoint, type SpeechRequestBody } from "./speech.js";
import {
  audioKey,
  TranscriptionsEndpoint,
  type TranscriptionRequest,
  type TranscriptionScript,
  type UploadedAudio,
} from "./transcriptions.js";

/** One HTTP request the server received, whatever its path or fate. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /**
   * Parsed JSON body (undefined when the body is empty or not JSON); for a multipart transcription request, the
   * parsed {@link TranscriptionRequest} (fields and the file's name, type, size and SHA-256).
   */
  body: unknown;
  at: number;
}

/** Options of startOpenAIServer(). */
export interface OpenAIServerOptions {
  /** Default `sk-test`. */
  apiKey?: string;
  /** More embedding models the server accepts, with their dimensions (besides text-embedding-3-small/-large, ada-002). */
  embeddingModels?: Record<string, number>;
  /** Audio input tokens per second reported by the gpt-4o transcribe models. Default 10. */
  audioTokensPerSecond?: number;
}

const ROUTES: Record<string, string> = {
  "POST /v1/chat/completions": "chat",
  "POST /v1/images/generations": "images",
  "POST /v1/embeddings": "embeddings",
  "POST /v1/audio/transcriptions": "transcriptions",
  "POST /v1/audio/speech": "speech",
  "GET /v1/models": "models",
};

const LISTED_MODELS = [
  "gpt-4o-mini",
  "gpt-4o",
  "gpt-image-1",
  ...Object.keys(EMBEDDING_MODELS),
  "whisper-1",
  "gpt-4o-mini-transcribe",
  "gpt-4o-transcribe",
  "tts-1",
  "gpt-4o-mini-tts",
];

/** The running test server: script its answers, read what it was sent and what became of each answer. */
export class OpenAIServer {
  readonly baseURL: string;
  readonly origin: string;
  readonly apiKey: string;
  readonly requests: RecordedRequest[] = [];
  /**
   * "first-token" / "last-token" with `{ at: performance.now(), body }` as content chunks are written;
   * "chat-start" / "chat-end" with the request's {@link ChatStreamRecord}.
   */
  readonly events = new EventEmitter();

  private readonly files = new Map<string, { bytes: Uint8Array; contentType: string }>();
  private readonly stop = (() => {
    // Every stream in progress waits on it (60 at once in the flood benchmark): not a leak.
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    return controller;
  })();
  private idCounter = 1;
  private readonly chat: ChatEndpoint;
  private readonly images: ImageEndpoint;
  private readonly embeddings: EmbeddingsEndpoint;
  private readonly transcriptions: TranscriptionsEndpoint;
  private readonly speech: SpeechEndpoint;

  /** Use startOpenAIServer(). */
  constructor(
    private readonly server: Server,
    origin: string,
    opts: OpenAIServerOptions,
  ) {
    this.origin = origin;
    this.baseURL = `${origin}/v1`;
    this.apiKey = opts.apiKey ?? "sk-test";
    this.events.setMaxListeners(0);
    const nextId = () => this.idCounter++;
    this.chat = new ChatEndpoint({ stop: this.stop.signal, events: this.events, nextId });
    this.images = new ImageEndpoint({ stop: this.stop.signal, nextId, addFile: (n, b, t) => this.addFile(n, b, t) });
    this.embeddings = new EmbeddingsEndpoint(this.stop.signal, opts.embeddingModels);
    this.transcriptions = new TranscriptionsEndpoint(this.stop.signal, opts.audioTokensPerSecond);
    this.speech = new SpeechEndpoint(this.stop.signal, (bytes, text) => this.addTranscript(bytes, text));
  }

  // ---- chat completions ------------------------------------------------------------------------------------

  /** Scripts for the next chat completion requests, used in order, one per request. */
  enqueue(...scripts: ChatScript[]): void {
    this.chat.queue.push(...scripts);
  }

  /** What to answer when the queue is empty (default: echoScript). */
  setDefault(fn: (body: ChatRequestBody) => ChatScript): void {
    this.chat.defaultScript = fn;
  }

  /** Scripts still queued (a test can assert all were used). */
  pending(): number {
    return this.chat.queue.length;
  }

  /** Chat completion request bodies, oldest first. */
  chatRequests(): ChatRequestBody[] {
    return this.requests.filter((r) => r.path === "/v1/chat/completions").map((r) => r.body as ChatRequestBody);
  }

  /** What happened to each chat completion request that passed the key check, oldest first (see ChatStreamRecord). */
  chatStreams(): ChatStreamRecord[] {
    return [...this.chat.records];
  }

  /** The newest chat completion record, if any. */
  lastChatStream(): ChatStreamRecord | undefined {
    return this.chat.records.at(-1);
  }

  /**
   * Chat streams the client closed before their end (the HTTP stream not read to the end: a stopped answer), oldest
   * first; each record says how many chunks were written before (`chunks`, `text`) and when the close came.
   */
  abortedChatStreams(): ChatStreamRecord[] {
    return this.chat.records.filter((r) => r.aborted);
  }

  /** Resolves with the record of the next chat completion request to arrive after this call. */
  nextChatStream(): Promise<ChatStreamRecord> {
    return new Promise((resolve) => this.events.once("chat-start", resolve));
  }

  // ---- images ----------------------------------------------------------------------------------------------

  /** Scripts for the next image generation requests. */
  enqueueImages(...scripts: ImageScript[]): void {
    this.images.queue.push(...scripts);
  }

  /** What to answer when the image queue is empty (default: a solid-colour PNG at the requested size). */
  setImageDefault(fn: (body: Record<string, unknown>) => ImageScript): void {
    this.images.defaultImage = fn;
  }

  // ---- embeddings ------------------------------------------------------------------------------------------

  /** Failures, delays or gates for the next embeddings requests, one per request; then the normal answer. */
  enqueueEmbeddings(...scripts: EndpointScript[]): void {
    this.embeddings.queue.push(...scripts);
  }

  /** Embeddings request bodies, oldest first. */
  embeddingRequests(): EmbeddingRequestBody[] {
    return this.requests.filter((r) => r.path === "/v1/embeddings").map((r) => r.body as EmbeddingRequestBody);
  }

  // ---- audio -----------------------------------------------------------------------------------------------

  /** The transcript to answer for these exact audio bytes (or their hex SHA-256). */
  addTranscript(audio: Uint8Array | string, text: string, language?: string): void {
    const key = typeof audio === "string" ? audio.toLowerCase() : audioKey(audio);
    this.transcriptions.transcripts.set(key, { text, language });
  }

  /** The transcript of unregistered, non-silent audio (default: "Test transcript of N seconds of audio (hash)."). */
  setTranscriptDefault(fn: (audio: UploadedAudio) => string): void {
    this.transcriptions.defaultTranscript = fn;
  }

  /** Failures, delays, gates or one-off transcripts for the next transcription requests that pass validation. */
  enqueueTranscriptions(...scripts: TranscriptionScript[]): void {
    this.transcriptions.queue.push(...scripts);
  }

  /** Transcription requests as parsed (fields, and the file's name, type, size and SHA-256), oldest first. */
  transcriptionRequests(): TranscriptionRequest[] {
    return [...this.transcriptions.requests];
  }

  /** Failures, delays or gates for the next speech requests that pass validation. */
  enqueueSpeech(...scripts: EndpointScript[]): void {
    this.speech.queue.push(...scripts);
  }

  /** Speech request bodies, oldest first. */
  speechRequests(): SpeechRequestBody[] {
    return [...this.speech.requests];
  }

  // ---- files and lifecycle ---------------------------------------------------------------------------------

  /** Serves bytes at GET /files/<name>; returns the URL. */
  addFile(name: string, bytes: Uint8Array, contentType = "image/png"): string {
    this.files.set(name, { bytes, contentType });
    return `${this.origin}/files/${encodeURIComponent(name)}`;
  }

  /** Ends every response in progress (waits end at once) and stops listening. */
  async close(): Promise<void> {
    this.stop.abort();
    await closeServer(this.server);
  }

  // ---- HTTP ----------------------------------------------------------------------------------------------

  /** @internal */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(500, `test server failure: ${String(err)}`));
      else res.destroy();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const raw = req.method === "POST" ? await readBody(req) : Buffer.alloc(0);
    if (req.method !== "POST") req.resume();
    let body: unknown;
    if (raw.length > 0 && !/^multipart\//i.test(req.headers["content-type"] ?? "")) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        body = undefined;
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    const recorded: RecordedRequest = { method: req.method ?? "GET", path: url.pathname, headers, body, at: Date.now() };
    this.requests.push(recorded);

    const file = /^\/files\/(.+)$/.exec(url.pathname);
    if (file && req.method === "GET") {
      const stored = this.files.get(decodeURIComponent(file[1]!));
      if (!stored) return sendJson(res, 404, errorBody(404, "file not found", null));
      res.writeHead(200, { "content-type": stored.contentType, "content-length": stored.bytes.length });
      res.end(Buffer.from(stored.bytes));
      return;
    }
    const route = ROUTES[`${req.method} ${url.pathname}`];
    if (!route) return sendJson(res, 404, errorBody(404, `Invalid URL (${req.method} ${url.pathname})`, null));
    const auth = headers.authorization ?? "";
    if (auth !== `Bearer ${this.apiKey}`) {
      const given = auth.startsWith("Bearer ") ? auth.slice(7) : "";
      const message = given
        ? `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
      return sendJson(res, 401, errorBody(401, message, given ? "invalid_api_key" : null));
    }
    switch (route) {
      case "models":
        return sendJson(res, 200, {
          object: "list",
          data: LISTED_MODELS.map((id) => ({ id, object: "model", created: 1700000000, owned_by: "system" })),
        });
      case "images":
        return this.images.handle(body, res);
      case "embeddings":
        return this.embeddings.handle(body, res);
      case "transcriptions": {
        const before = this.transcriptions.requests.length;
        const done = this.transcriptions.handle(raw, headers["content-type"] ?? "", res);
        // The endpoint logs its parsed request synchronously before its first await.
        recorded.body = this.transcriptions.requests[before];
        return done;
      }
      case "speech":
        return this.speech.handle(body, res);
      default:
        return this.chat.handle(body, res);
    }
  }
}
