/**
 * The context every handler gets: grammY's, the i18n flavor (ctx.t), and the bot's own few extras. BotDeps is built
 * once by the composition root (src/app.ts) and shared by every update.
 */
import type { Api, Context } from "grammy";
import type { I18n, I18nFlavor } from "@grammyjs/i18n";
import type { Config } from "../config.js";
import type { Logger } from "../util/logger.js";
import type { InFlight } from "../util/in-flight.js";
import type { ChatEngine } from "../ai/chat-engine.js";
import type { ImageGenerator } from "../ai/image-generator.js";
import type { SpeechSynthesizer } from "../ai/speech.js";
import type { Transcriber } from "../ai/transcriber.js";
import type { EncodingName } from "../ai/models.js";
import type { WeatherClient } from "../ai/tools/weather.js";
import type { IpfsPinner } from "../ipfs/pin.js";
import type { HistoryStore } from "../storage/history.js";
import type { UsageStore } from "../storage/usage.js";
import type { ChatSettings, ChatSettingsStore } from "../storage/settings.js";
import type { PersonaChoiceStore } from "../storage/persona-choices.js";
import type { PersonaCatalogue } from "../services/personas.js";
import type { Pacing } from "../telegram/pacer.js";
import type { DraftSupport } from "../telegram/draft-support.js";
import type { EphemeralSupport } from "../telegram/ephemeral-support.js";
import type { InlineMessageTarget } from "../telegram/target.js";
import type { AccessRefusals } from "../services/access.js";
import type { AdminCache } from "../services/admins.js";
import type { ModelCallLimits } from "../services/limits.js";
import type { AnswersInFlight } from "./answers-in-flight.js";
import type { JoinedMessages, MessageJoiner } from "./message-joiner.js";
import type { LimitNotices } from "../services/limit-notices.js";
import type { Embedder } from "../ai/embeddings.js";
import type { DocumentStore } from "../storage/documents.js";
import type { VectorStore } from "../storage/vectors/open.js";
import type { SafeFetcher } from "../web/safe-fetch.js";
import type { SearxngClient } from "../web/searxng.js";

/** Documents, links, retrieval and web search (issue 12). */
export interface KnowledgeDeps {
  embedder: Embedder;
  /** Documents' texts and each chat's learned list. */
  documents: DocumentStore;
  /** Their embeddings, beside the history. */
  vectors: VectorStore;
  /** Fetches links behind the SSRF guard. */
  fetcher: SafeFetcher;
  /** Undefined when SEARXNG_URL is not set: no web search. */
  search: SearxngClient | undefined;
}

/** Everything a feature needs, built once in src/app.ts and injected into every context. */
export interface BotDeps {
  config: Config;
  log: Logger;
  /** The clock of usage days, rate limits, budgets and the admin cache (tests move it instead of waiting). */
  now: () => Date;
  /** Aborts every answer in flight when the bot shuts down. */
  shutdown: AbortSignal;
  engine: ChatEngine;
  images: ImageGenerator;
  /** Voice notes, audio files and video notes to text (OPENAI_TRANSCRIBE_MODEL). */
  transcriber: Transcriber;
  /** Text to voice notes (OPENAI_TTS_MODEL, OPENAI_TTS_VOICE). */
  speech: SpeechSynthesizer;
  /** Encoding of the chat model, loaded at start-up so counting is synchronous afterwards. */
  encoding: EncodingName;
  history: HistoryStore;
  /** What every user and chat spends. */
  usage: UsageStore;
  /** Per-chat settings (system prompt, model, history mode, language). */
  settings: ChatSettingsStore;
  /** The presets /persona offers (built-in ones and PERSONAS_FILE's), read at start-up. */
  personas: PersonaCatalogue;
  /** Members' own personas in groups with one history per member. */
  personaChoices: PersonaChoiceStore;
  pacer: Pacing;
  drafts: DraftSupport;
  /** Whether the Bot API server takes ephemeral messages (replies shown to one member of a group). */
  ephemeral: EphemeralSupport;
  /** Users' pictures being downloaded, shared by the requests that need them at the same time (bot/pictures.ts). */
  pictureDownloads: InFlight<Uint8Array>;
  i18n: I18n<BotContext>;
  /** Who was told they may not use the bot. */
  accessRefusals: AccessRefusals;
  /** Who was told they are over a limit (told once per window, not once per message). */
  limitNotices: LimitNotices;
  /** Group admin checks (getChatMember, cached). */
  admins: AdminCache;
  /** Rate limit and daily budgets, checked before every model call. */
  limits: ModelCallLimits;
  weather: WeatherClient;
  /** Undefined when IPFS_API_URL is not set: pictures are sent but not pinned. */
  ipfs: IpfsPinner | undefined;
  /** Answers being written, by question: what an edit (or a stop button) aborts. */
  answers: AnswersInFlight;
  /** Long pastes, albums and forwards with their comment, joined into one question (middleware/message-joining.ts). */
  joiner: MessageJoiner;
  knowledge: KnowledgeDeps;
}

export interface BotExtras {
  /** This chat's settings, read once per update (the locale, limits and the answer all need them). */
  chatSettings(): Promise<ChatSettings>;
  /** Changes this chat's settings (see ChatSettingsStore.update) and what chatSettings() returns from now on. */
  updateChatSettings(patch: Partial<ChatSettings>): Promise<ChatSettings>;
  deps: BotDeps;
  /** The bot's logger with this update's id and chat. */
  log: Logger;
  /** Api without automatic retries, for updates that are better skipped than delayed. */
  fastApi: Api;
  /**
   * Set by inline mode and guest mode once the answer's message exists: the answer and every reply of this update go
   * into that message (edited by inline_message_id) instead of a chat, and no chat history is read or written.
   */
  inlineMessage?: InlineMessageTarget;
  /**
   * Set on an edited question that aborted its own answer in flight (middleware/edit-interrupt.ts): it is answered
   * even if that answer was cut before anything reached history.
   */
  editAbortedAnswer?: boolean;
  /** Set when this update's message is several joined into one question (a paste, an album, forwards): all of them. */
  joined?: JoinedMessages;
}

export type BotContext = Context & I18nFlavor & BotExtras;
