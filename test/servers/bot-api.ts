// A strict fake Telegram Bot API server for end-to-end tests and benchmarks. grammY talks to it unchanged through
// `client: { apiRoot: server.apiRoot }`. It is deliberately stricter than Telegram where Telegram silently "fixes"
// things (parse_mode is refused, entities are validated hard) so that the bot's own formatting is what gets tested,
// and it enforces Telegram's flood limits with real 429 answers.
import { EventEmitter } from "node:events";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { imageSize } from "image-size";
import type { Message, MessageEntity } from "grammy/types";
import { BodyTooLargeError, closeServer, startFake, sendJson, sleep } from "./http-util.js";
import { autoEntities, entitiesFrom, noParseMode, sameEntities, utf16Length } from "./bot-api/entities.js";
import { DEFAULT_LIMITS, FloodControl } from "./bot-api/flood-limits.js";
import { canonical, isObject, stripUndefined, type Json } from "./bot-api/json.js";
import { hasMarkup, markupFrom, sameMarkup } from "./bot-api/markup.js";
import { ApiError, badRequest, decodeParams, isValidUrl, NOT_FOUND, Params } from "./bot-api/params.js";
import type {
  ApiErrorBody,
  BotApiServerOptions,
  BotApiStats,
  Call,
  ChatMemberStatus,
  DocumentInfo,
  DraftState,
  DraftUpdate,
  FakeChat,
  FakeUser,
  FileInfo,
  FloodLimits,
  MessageVersion,
  PhotoSize,
  StoredMessage,
  UserSendsOptions,
  WaitForOptions,
} from "./bot-api/types.js";

export { DEFAULT_LIMITS } from "./bot-api/flood-limits.js";
export { ENTITY_TYPES, autoEntities, entityError } from "./bot-api/entities.js";
export type {
  ApiErrorBody,
  BotApiServerOptions,
  BotApiStats,
  Call,
  ChatMemberStatus,
  ChatType,
  DocumentInfo,
  DraftState,
  DraftUpdate,
  FakeChat,
  FakeUser,
  FileInfo,
  FloodLimits,
  MessageVersion,
  PhotoSize,
  RateWindow,
  StoredMessage,
  UserSendsOptions,
  WaitForOptions,
} from "./bot-api/types.js";

/** The user Telegram puts in `from` of messages sent by anonymous group admins (sender_chat is then the group). */
export const GROUP_ANONYMOUS_BOT: FakeUser = { id: 1087968824, is_bot: true, first_name: "Group", username: "GroupAnonymousBot" };

export const MESSAGE_NOT_MODIFIED =
  "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a content and reply markup of the current message";

const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
const MAX_DOWNLOAD = 20 * 1024 * 1024;
const CHAT_ACTIONS = new Set([
  "typing",
  "upload_photo",
  "record_video",
  "upload_video",
  "record_voice",
  "upload_voice",
  "upload_document",
  "choose_sticker",
  "find_location",
  "record_video_note",
  "upload_video_note",
]);
/** Update types delivered when allowed_updates is empty/unset (Telegram's default excludes these). */
const OPT_IN_UPDATES = new Set(["chat_member", "message_reaction", "message_reaction_count"]);

// ---------------------------------------------------------------------------------------------------------------
// The server

interface StoredFile extends FileInfo {
  bytes: Uint8Array;
  mime?: string;
}

interface ChatState {
  chat: FakeChat;
  nextMessageId: number;
  messages: Map<number, StoredMessage>;
  drafts: Map<number, DraftState>;
  members: Map<number, { user: FakeUser; status: ChatMemberStatus }>;
}

interface PendingPoll {
  limit: number;
  resolve: (outcome: { result: unknown[] } | { error: ApiError }) => void;
}

type Handler = (p: Params) => unknown;

export class BotApiServer extends EventEmitter {
  readonly apiRoot: string;
  readonly token: string;
  readonly botUser: FakeUser & { is_bot: true; username: string };
  readonly calls: Call[] = [];
  readonly stats: BotApiStats = { tooManyRequests: 0, tooManyRequestsByChat: new Map(), counted: 0 };
  /** Mutable: tests may tighten or loosen windows at any time. */
  readonly limits: FloodLimits;
  latencyMs: number;
  draftsSupported: boolean;
  /** Stored webhook (setWebhook); while set, getUpdates answers 409 like Telegram. */
  webhook: { url: string; secret_token?: string; allowed_updates?: string[]; max_connections?: number } | undefined;

  private readonly chats = new Map<number, ChatState>();
  private readonly users = new Map<number, FakeUser>();
  private readonly files = new Map<string, StoredFile>();
  private readonly filesByPath = new Map<string, StoredFile>();
  private readonly commands = new Map<string, unknown[]>();
  private readonly flood: FloodControl;
  private readonly failures = new Map<string, Array<ApiErrorBody>>();
  private readonly callbackQueries = new Set<string>();
  private updates: Json[] = [];
  private nextUpdateId = 1;
  private nextFileNumber = 1;
  private allowedUpdates: string[] = [];
  private pendingPoll: PendingPoll | undefined;
  private closed = false;
  private readonly handlers: Record<string, Handler>;

  /** Use startBotApiServer(). */
  constructor(
    private readonly server: Server,
    origin: string,
    opts: BotApiServerOptions,
  ) {
    super();
    this.setMaxListeners(0);
    this.apiRoot = origin;
    this.token = opts.token ?? "123456:TEST-token";
    const botId = Number(this.token.split(":")[0]) || 123456;
    this.botUser = {
      id: botId,
      first_name: "Test AI Bot",
      ...opts.botUser,
      is_bot: true,
      username: opts.botUser?.username ?? "test_ai_bot",
    };
    this.users.set(this.botUser.id, this.botUser);
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.flood = new FloodControl(this.limits, this.stats);
    this.latencyMs = opts.latencyMs ?? 0;
    this.draftsSupported = opts.draftsSupported ?? true;
    this.handlers = this.buildHandlers();
  }

  // ---- simulation API -------------------------------------------------------------------------------------

  addUser(user: FakeUser): FakeUser {
    const stored = { is_bot: false, ...user };
    this.users.set(user.id, stored);
    return stored;
  }

  /** Registers a chat. A private chat's id is its user's id; the user is registered too. */
  addChat(chat: FakeChat): FakeChat {
    const existing = this.chats.get(chat.id);
    if (existing) {
      existing.chat = { ...existing.chat, ...chat };
      return existing.chat;
    }
    this.chats.set(chat.id, { chat: { ...chat }, nextMessageId: 1, messages: new Map(), drafts: new Map(), members: new Map() });
    if (chat.type === "private" && !this.users.has(chat.id)) {
      this.addUser({ id: chat.id, first_name: chat.first_name ?? `User ${chat.id}`, last_name: chat.last_name, username: chat.username });
    }
    return chat;
  }

  setChatMember(chatId: number, user: FakeUser | number, status: ChatMemberStatus): void {
    const state = this.requireChatState(chatId);
    const u = typeof user === "number" ? this.requireUser(user) : this.users.get(user.id) ?? this.addUser(user);
    state.members.set(u.id, { user: u, status });
  }

  /** A user writes to the bot: stores the message and queues a `message` update. Returns the Bot API Message. */
  userSends(opts: UserSendsOptions): Message {
    const chat = typeof opts.chat === "number" ? this.requireChatState(opts.chat).chat : this.addChat(opts.chat);
    const from = typeof opts.from === "number" ? this.requireUser(opts.from) : this.users.get(opts.from.id) ?? this.addUser(opts.from);
    const state = this.requireChatState(chat.id);
    if (opts.replyTo !== undefined && !state.messages.has(opts.replyTo)) {
      throw new Error(`userSends: message ${opts.replyTo} not found in chat ${chat.id}`);
    }
    if (opts.text === undefined && !opts.photo && !opts.photoSizes && !opts.document) {
      throw new Error("userSends needs text, photo, photoSizes or document");
    }
    const msg = this.newMessage(state, from, {
      reply_to_message_id: opts.replyTo,
      message_thread_id: opts.threadId,
    });
    if (opts.senderChat !== undefined) {
      msg.sender_chat_id = typeof opts.senderChat === "number" ? this.requireChatState(opts.senderChat).chat.id : this.addChat(opts.senderChat).id;
    }
    if (opts.text !== undefined) {
      msg.text = opts.text;
      const entities = opts.entities ?? autoEntities(opts.text);
      if (entities.length > 0) msg.entities = entities;
    }
    if (opts.photo || opts.photoSizes) {
      msg.photo = opts.photoSizes
        ? opts.photoSizes.map((s) => this.photoSize(this.addFile(s.bytes, { mime: "image/jpeg", filePath: this.autoPath("photos", "jpg") }), s.width, s.height))
        : this.photoSizesFor(opts.photo!);
    }
    if (opts.document) {
      const info = this.addFile(opts.document.bytes, {
        mime: opts.document.mime_type,
        filePath: this.autoPath("documents", extensionOf(opts.document.file_name) ?? "dat"),
      });
      msg.document = {
        file_id: info.file_id,
        file_unique_id: info.file_unique_id,
        file_name: opts.document.file_name,
        mime_type: opts.document.mime_type,
        file_size: info.file_size,
      };
    }
    if (opts.caption !== undefined) {
      msg.caption = opts.caption;
      const entities = opts.caption_entities ?? autoEntities(opts.caption);
      if (entities.length > 0) msg.caption_entities = entities;
    }
    const apiMessage = this.toApiMessage(msg);
    this.pushUpdate({ message: apiMessage });
    return apiMessage as unknown as Message;
  }

  /**
   * A user presses an inline button of a bot message: queues a callback_query update and returns its id
   * (answerCallbackQuery accepts it once).
   */
  userPresses(opts: { chat: number; from: FakeUser | number; messageId: number; data: string }): string {
    const state = this.requireChatState(opts.chat);
    const msg = state.messages.get(opts.messageId);
    if (!msg) throw new Error(`userPresses: message ${opts.messageId} not found in chat ${opts.chat}`);
    const from = typeof opts.from === "number" ? this.requireUser(opts.from) : this.users.get(opts.from.id) ?? this.addUser(opts.from);
    const id = `cbq-${this.nextUpdateId}-${Date.now()}`;
    this.pushUpdate({
      callback_query: { id, from, message: this.toApiMessage(msg), chat_instance: `ci${opts.chat}`, data: opts.data },
    });
    return id;
  }

  /** Queues any update (update_id assigned when missing). Callback query ids become answerable. */
  pushUpdate(raw: Json): Json {
    const updateId = typeof raw.update_id === "number" ? raw.update_id : this.nextUpdateId;
    const update: Json = { update_id: updateId, ...raw };
    update.update_id = updateId;
    this.nextUpdateId = Math.max(this.nextUpdateId, updateId + 1);
    const cbq = update.callback_query;
    if (isObject(cbq) && typeof cbq.id === "string") this.callbackQueries.add(cbq.id);
    this.updates.push(update);
    this.emit("update", update);
    this.flushPoll();
    return update;
  }

  /** Adds a downloadable file. */
  addFile(bytes: Uint8Array, opts: { filePath?: string; mime?: string } = {}): FileInfo {
    const n = this.nextFileNumber++;
    // A plain Uint8Array view (not a Buffer subclass) so tests can compare bytes with toEqual.
    bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const file: StoredFile = {
      file_id: `AgACAgTEST${n.toString().padStart(6, "0")}fid`,
      file_unique_id: `AQADTEST${n}`,
      file_size: bytes.length,
      file_path: opts.filePath ?? `documents/file_${n}.dat`,
      bytes,
      mime: opts.mime,
    };
    this.files.set(file.file_id, file);
    this.filesByPath.set(file.file_path, file);
    return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, file_path: file.file_path };
  }

  fileBytes(fileId: string): Uint8Array | undefined {
    return this.files.get(fileId)?.bytes;
  }

  // ---- observation API ------------------------------------------------------------------------------------

  /** Current messages of a chat (bot and user), by message_id, deleted ones excluded. */
  messages(chatId: number): StoredMessage[] {
    const state = this.chats.get(chatId);
    return state ? [...state.messages.values()] : [];
  }

  botMessages(chatId: number): StoredMessage[] {
    return this.messages(chatId).filter((m) => m.from.id === this.botUser.id);
  }

  message(chatId: number, messageId: number): StoredMessage | undefined {
    return this.chats.get(chatId)?.messages.get(messageId);
  }

  drafts(chatId: number): DraftState[] {
    const state = this.chats.get(chatId);
    return state ? [...state.drafts.values()] : [];
  }

  chat(chatId: number): FakeChat | undefined {
    return this.chats.get(chatId)?.chat;
  }

  /** Commands stored by setMyCommands for a scope (default `{type:"default"}`) and language code. */
  myCommands(scope?: Json, languageCode = ""): unknown[] | undefined {
    return this.commands.get(commandsKey(scope, languageCode));
  }

  /** Updates not yet confirmed by getUpdates. */
  pendingUpdates(): Json[] {
    return [...this.updates];
  }

  /** Resolves with the first call (past or future) matching the predicate. */
  waitFor(
    predicate: (call: Call) => boolean,
    timeoutOrOpts: number | WaitForOptions = 5000,
    maybeOpts: WaitForOptions = {},
  ): Promise<Call> {
    const opts = typeof timeoutOrOpts === "number" ? { ...maybeOpts, timeoutMs: timeoutOrOpts } : timeoutOrOpts;
    const timeoutMs = opts.timeoutMs ?? 5000;
    const after = opts.after ?? 0;
    for (let i = after; i < this.calls.length; i++) {
      if (predicate(this.calls[i]!)) return Promise.resolve(this.calls[i]!);
    }
    return new Promise((resolve, reject) => {
      const onCall = (call: Call) => {
        if (!predicate(call)) return;
        clearTimeout(timer);
        this.off("call", onCall);
        resolve(call);
      };
      const timer = setTimeout(() => {
        this.off("call", onCall);
        const recent = this.calls
          .slice(-8)
          .map((c) => `${c.method}→${c.status}${c.error ? ` ${c.error.description}` : ""}`)
          .join(", ");
        reject(new Error(`waitFor: no matching call within ${timeoutMs} ms (last calls: ${recent || "none"})`));
      }, timeoutMs);
      this.on("call", onCall);
    });
  }

  /** The next `times` calls of `method` fail with this error (no state change, not counted). */
  failNext(method: string, error: ApiErrorBody, times = 1): void {
    const key = method.toLowerCase();
    const queue = this.failures.get(key) ?? [];
    for (let i = 0; i < times; i++) queue.push(error);
    this.failures.set(key, queue);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const poll = this.pendingPoll;
    this.pendingPoll = undefined;
    poll?.resolve({ result: [] });
    // Let the resolved poll answer before connections are dropped.
    await sleep(0);
    await closeServer(this.server);
  }

  // ---- HTTP ----------------------------------------------------------------------------------------------

  /** @internal */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((err: unknown) => {
      sendJson(res, 500, { ok: false, error_code: 500, description: `Internal Server Error: ${String(err)}` });
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.apiRoot);
    const at = Date.now();
    const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (fileMatch && (req.method === "GET" || req.method === "HEAD")) {
      await this.delay();
      if (fileMatch[1] !== this.token) return this.answerError(res, new ApiError(401, "Unauthorized"));
      const file = this.filesByPath.get(decodeURIComponent(fileMatch[2]!));
      if (!file) return this.answerError(res, NOT_FOUND());
      res.writeHead(200, { "content-type": file.mime ?? "application/octet-stream", "content-length": file.bytes.length });
      res.end(req.method === "HEAD" ? undefined : Buffer.from(file.bytes));
      return;
    }
    const match = /^\/bot([^/]*)\/([A-Za-z0-9_]*)$/.exec(url.pathname);
    if (!match || (req.method !== "GET" && req.method !== "POST")) {
      req.resume();
      await this.delay();
      return this.answerError(res, NOT_FOUND());
    }
    const [, token, method = ""] = match;
    let params: Params;
    try {
      params = await decodeParams(req, url);
    } catch (err) {
      await this.delay();
      const error = err instanceof ApiError ? err : badRequest(err instanceof BodyTooLargeError ? "request is too large" : "can't parse request");
      return this.answerError(res, error);
    }
    if (token !== this.token) {
      await this.delay();
      return this.finish(res, { method, params: params.decoded, at, status: 401 }, new ApiError(401, "Unauthorized"));
    }
    const key = method.toLowerCase();
    const handler = this.handlers[key];
    if (!handler) {
      await this.delay();
      return this.finish(res, { method, params: params.decoded, at, status: 404 }, NOT_FOUND());
    }
    const failure = this.failures.get(key)?.shift();
    if (failure) {
      await this.delay();
      const error = new ApiError(failure.error_code, failure.description, failure.parameters);
      return this.finish(res, { method, params: params.decoded, at, status: failure.error_code }, error);
    }
    if (key === "getupdates") return this.getUpdates(params, res, { method, at });
    let result: unknown;
    let error: ApiError | undefined;
    try {
      result = handler(params);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      error = err;
    }
    await this.delay();
    this.finish(res, { method, params: params.decoded, at, status: error?.code ?? 200 }, error, result);
  }

  private finish(res: ServerResponse, call: Call, error?: ApiError, result?: unknown): void {
    if (error) {
      call.error = { error_code: error.code, description: error.description };
      if (error.parameters) call.error.parameters = error.parameters;
      call.status = error.code;
    } else {
      call.result = result;
    }
    this.calls.push(call);
    if (error) this.answerError(res, error);
    else sendJson(res, 200, { ok: true, result });
    this.emit("call", call);
  }

  private answerError(res: ServerResponse, error: ApiError): void {
    const body: Json = { ok: false, error_code: error.code, description: error.description };
    if (error.parameters) body.parameters = error.parameters;
    sendJson(res, error.code, body);
  }

  private delay(): Promise<void> {
    return this.latencyMs > 0 ? sleep(this.latencyMs) : Promise.resolve();
  }

  // ---- getUpdates (long polling) ---------------------------------------------------------------------------

  private getUpdates(p: Params, res: ServerResponse, meta: { method: string; at: number }): void {
    const respond = async (outcome: { result: unknown[] } | { error: ApiError }) => {
      await this.delay();
      const call: Call = { method: meta.method, params: p.decoded, at: meta.at, status: 200 };
      if ("error" in outcome) this.finish(res, call, outcome.error);
      else this.finish(res, call, undefined, outcome.result);
    };
    let offset: number | undefined;
    let limit: number;
    let timeout: number;
    try {
      if (this.webhook) {
        throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
      }
      offset = p.int("offset");
      limit = Math.min(100, Math.max(1, p.int("limit") ?? 100));
      timeout = Math.max(0, p.int("timeout") ?? 0);
      const allowed = p.json("allowed_updates", "can't parse allowed updates");
      if (allowed !== undefined) {
        if (!Array.isArray(allowed) || !allowed.every((t) => typeof t === "string")) throw badRequest("can't parse allowed updates");
        this.allowedUpdates = allowed;
      }
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      void respond({ error: err });
      return;
    }
    if (offset !== undefined) {
      if (offset > 0) this.updates = this.updates.filter((u) => (u.update_id as number) >= offset);
      else if (offset < 0) this.updates = this.updates.slice(offset);
    }
    // Telegram ends an older poll when a newer one arrives (two bot instances polling).
    const previous = this.pendingPoll;
    this.pendingPoll = undefined;
    previous?.resolve({
      error: new ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"),
    });
    const ready = this.takeUpdates(limit);
    if (ready.length > 0 || timeout === 0 || this.closed) {
      void respond({ result: ready });
      return;
    }
    let done = false;
    const poll: PendingPoll = {
      limit,
      resolve: (outcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (this.pendingPoll === poll) this.pendingPoll = undefined;
        void respond(outcome);
      },
    };
    const timer = setTimeout(() => poll.resolve({ result: [] }), timeout * 1000);
    // A client that gave up (bot.stop() aborts its fetch) must not get the next updates.
    res.on("close", () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (this.pendingPoll === poll) this.pendingPoll = undefined;
    });
    this.pendingPoll = poll;
  }

  private takeUpdates(limit: number): Json[] {
    const allowed = this.allowedUpdates;
    this.updates = this.updates.filter((u) => {
      const type = Object.keys(u).find((k) => k !== "update_id") ?? "";
      return allowed.length > 0 ? allowed.includes(type) : !OPT_IN_UPDATES.has(type);
    });
    return this.updates.slice(0, limit);
  }

  private flushPoll(): void {
    const poll = this.pendingPoll;
    if (!poll) return;
    const ready = this.takeUpdates(poll.limit);
    if (ready.length === 0) return;
    this.pendingPoll = undefined;
    poll.resolve({ result: ready });
  }

  // ---- state helpers ---------------------------------------------------------------------------------------

  private requireChatState(chatId: number): ChatState {
    const state = this.chats.get(chatId);
    if (!state) throw new Error(`chat ${chatId} is not registered (server.addChat first)`);
    return state;
  }

  private requireUser(userId: number): FakeUser {
    const user = this.users.get(userId);
    if (!user) throw new Error(`user ${userId} is not registered (server.addUser first)`);
    return user;
  }

  private newMessage(state: ChatState, from: FakeUser, extra: Partial<StoredMessage>): StoredMessage {
    const msg: StoredMessage = {
      message_id: state.nextMessageId++,
      chat_id: state.chat.id,
      from,
      date: Math.floor(Date.now() / 1000),
      edits: 0,
      editHistory: [],
    };
    if (extra.reply_to_message_id !== undefined) msg.reply_to_message_id = extra.reply_to_message_id;
    if (extra.message_thread_id !== undefined) msg.message_thread_id = extra.message_thread_id;
    state.messages.set(msg.message_id, msg);
    return msg;
  }

  private autoPath(dir: string, ext: string): string {
    return `${dir}/file_${this.nextFileNumber}.${ext}`;
  }

  private photoSize(info: FileInfo, width: number, height: number): PhotoSize {
    return { file_id: info.file_id, file_unique_id: info.file_unique_id, width, height, file_size: info.file_size };
  }

  private photoSizesFor(bytes: Uint8Array): PhotoSize[] {
    const { width, height } = dimensions(bytes);
    const longest = Math.max(width, height);
    const sides = [90, 320, 800].filter((s) => s < longest);
    const sizes: PhotoSize[] = [];
    for (const side of [...sides, longest]) {
      const scale = longest > 0 ? side / longest : 0;
      const info = this.addFile(bytes, { mime: "image/jpeg", filePath: this.autoPath("photos", "jpg") });
      sizes.push(this.photoSize(info, Math.round(width * scale), Math.round(height * scale)));
    }
    return sizes;
  }

  private chatInfo(chat: FakeChat): Json {
    const info: Json = { id: chat.id, type: chat.type };
    if (chat.type === "private") {
      info.first_name = chat.first_name ?? this.users.get(chat.id)?.first_name ?? `User ${chat.id}`;
      if (chat.last_name) info.last_name = chat.last_name;
    } else {
      info.title = chat.title ?? `Chat ${chat.id}`;
    }
    if (chat.username) info.username = chat.username;
    if (chat.is_forum) info.is_forum = true;
    return info;
  }

  /** The Bot API `Message` for a stored message. */
  toApiMessage(msg: StoredMessage, withReply = true): Json {
    const state = this.chats.get(msg.chat_id)!;
    const out: Json = {
      message_id: msg.message_id,
      from: stripUndefined({ ...msg.from, is_bot: msg.from.is_bot ?? false }),
      chat: this.chatInfo(state.chat),
      date: msg.date,
    };
    if (msg.sender_chat_id !== undefined) out.sender_chat = this.chatInfo(this.chats.get(msg.sender_chat_id)!.chat);
    if (msg.message_thread_id !== undefined) {
      out.message_thread_id = msg.message_thread_id;
      if (state.chat.is_forum) out.is_topic_message = true;
    }
    if (withReply && msg.reply_to_message_id !== undefined) {
      const replied = state.messages.get(msg.reply_to_message_id);
      if (replied) out.reply_to_message = this.toApiMessage(replied, false);
    }
    if (msg.edit_date !== undefined) out.edit_date = msg.edit_date;
    if (msg.text !== undefined) out.text = msg.text;
    if (msg.entities?.length) out.entities = msg.entities;
    if (msg.photo) out.photo = msg.photo;
    if (msg.document) out.document = msg.document;
    if (msg.caption !== undefined) out.caption = msg.caption;
    if (msg.caption_entities?.length) out.caption_entities = msg.caption_entities;
    if (hasMarkup(msg.reply_markup)) out.reply_markup = msg.reply_markup;
    return out;
  }

  // ---- flood control ---------------------------------------------------------------------------------------

  /** Refuses with 429 if any window is full; otherwise counts the request in every window. */
  private floodGate(chat: FakeChat, kind: "message" | "draft"): void {
    this.flood.gate(chat, kind);
  }

  // ---- parameter helpers -----------------------------------------------------------------------------------

  private chatFrom(p: Params, name = "chat_id"): ChatState {
    const id = p.chatId(name);
    if (id === undefined) throw badRequest(`${name} is empty`);
    if (typeof id === "string") {
      const name = id.slice(1).toLowerCase();
      for (const state of this.chats.values()) if (state.chat.username?.toLowerCase() === name) return state;
      throw badRequest("chat not found");
    }
    const state = this.chats.get(id);
    if (!state) throw badRequest("chat not found");
    return state;
  }

  private replyFrom(p: Params, state: ChatState): number | undefined {
    let messageId: number | undefined;
    let allowWithout = p.bool("allow_sending_without_reply") ?? false;
    let targetChat = state;
    const parameters = p.json("reply_parameters", "can't parse reply parameters JSON object");
    if (parameters !== undefined) {
      if (!isObject(parameters)) throw badRequest("can't parse reply parameters JSON object");
      const sub = new Params(parameters, new Map());
      messageId = sub.int("message_id");
      if (messageId === undefined) throw badRequest("message to be replied not found");
      allowWithout = sub.bool("allow_sending_without_reply") ?? allowWithout;
      if (sub.has("chat_id")) targetChat = this.chatFrom(sub);
    } else {
      messageId = p.int("reply_to_message_id");
    }
    if (messageId === undefined) return undefined;
    if (targetChat.messages.has(messageId)) return targetChat === state ? messageId : undefined;
    if (allowWithout) return undefined;
    throw badRequest("message to be replied not found");
  }

  private textFrom(p: Params): string {
    const text = p.str("text");
    if (text === undefined || text.trim() === "") throw badRequest("message text is empty");
    if (utf16Length(text) > MAX_TEXT) throw badRequest("message is too long");
    return text;
  }

  private captionFrom(p: Params): { caption?: string; caption_entities?: MessageEntity[] } {
    const caption = p.str("caption");
    if (caption !== undefined && utf16Length(caption) > MAX_CAPTION) throw badRequest("message caption is too long");
    const entities = entitiesFrom(p, "caption_entities", caption ?? "");
    const out: { caption?: string; caption_entities?: MessageEntity[] } = {};
    if (caption !== undefined && caption !== "") out.caption = caption;
    if (entities) out.caption_entities = entities;
    return out;
  }

  private editTarget(p: Params): { state: ChatState; msg: StoredMessage } {
    if (p.has("inline_message_id")) throw badRequest("inline messages are not supported by this test server");
    const state = this.chatFrom(p);
    const messageId = p.int("message_id");
    if (messageId === undefined) throw badRequest("message identifier is not specified");
    const msg = state.messages.get(messageId);
    if (!msg || msg.from.id !== this.botUser.id) throw badRequest("message to edit not found");
    return { state, msg };
  }

  private applyEdit(msg: StoredMessage, version: Omit<MessageVersion, "at">): Json {
    const at = Date.now();
    msg.editHistory.push({ at, ...stripUndefined(version as Json) });
    if ("text" in version) msg.text = version.text;
    if ("text" in version) msg.entities = version.entities;
    if ("caption" in version) msg.caption = version.caption;
    if ("caption" in version) msg.caption_entities = version.caption_entities;
    msg.reply_markup = version.reply_markup;
    msg.edits++;
    msg.edit_date = Math.floor(at / 1000);
    return this.toApiMessage(msg);
  }

  /** Resolves the InputFile parameter `name`: uploaded part, attach://, an existing file_id, or a URL. */
  private inputFile(p: Params, name: string): { bytes: Uint8Array; filename?: string; mime?: string } | { fileId: string } | { url: string } {
    const upload = p.files.get(name);
    if (upload) return { bytes: upload.data, filename: upload.filename, mime: upload.contentType };
    const value = p.str(name);
    if (value === undefined || value === "") throw badRequest(`there is no ${name} in the request`);
    if (value.startsWith("attach://")) {
      const part = p.files.get(value.slice("attach://".length));
      if (!part) throw badRequest(`there is no ${name} in the request`);
      return { bytes: part.data, filename: part.filename, mime: part.contentType };
    }
    if (this.files.has(value)) return { fileId: value };
    if (/^https?:\/\/\S+$/i.test(value)) return { url: value };
    throw badRequest("wrong file identifier/HTTP URL specified");
  }

  // ---- methods ---------------------------------------------------------------------------------------------

  private buildHandlers(): Record<string, Handler> {
    const sendCommon = (p: Params, state: ChatState) => {
      const thread = p.int("message_thread_id");
      const replyTo = this.replyFrom(p, state);
      p.bool("disable_notification");
      p.bool("protect_content");
      return { thread, replyTo };
    };

    const handlers: Record<string, Handler> = {
      getMe: () => ({
        ...this.botUser,
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
      }),

      setMyCommands: (p) => {
        const commands = p.json("commands", "can't parse commands JSON object");
        if (!Array.isArray(commands)) throw badRequest("can't parse commands JSON object");
        if (commands.length > 100) throw badRequest("too many commands specified");
        for (const c of commands) {
          if (!isObject(c) || typeof c.command !== "string" || !/^[a-z0-9_]{1,32}$/.test(c.command)) {
            throw badRequest("BOT_COMMAND_INVALID");
          }
          if (typeof c.description !== "string" || c.description.trim() === "" || c.description.length > 256) {
            throw badRequest("command description is empty");
          }
        }
        const scope = this.scopeFrom(p);
        this.commands.set(commandsKey(scope, p.str("language_code") ?? ""), commands);
        return true;
      },
      getMyCommands: (p) => this.commands.get(commandsKey(this.scopeFrom(p), p.str("language_code") ?? "")) ?? [],
      deleteMyCommands: (p) => {
        this.commands.delete(commandsKey(this.scopeFrom(p), p.str("language_code") ?? ""));
        return true;
      },

      setWebhook: (p) => {
        const url = p.str("url");
        if (url === undefined) throw badRequest("parameter \"url\" is required");
        if (url === "") {
          this.webhook = undefined;
          return true;
        }
        if (!isValidUrl(url, false) || !url.startsWith("https://")) throw badRequest("bad webhook: An HTTPS URL must be provided for webhook");
        const allowed = p.json("allowed_updates", "can't parse allowed updates");
        const secret = p.str("secret_token");
        if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw badRequest("secret token contains unallowed characters");
        if (p.bool("drop_pending_updates")) this.updates = [];
        this.webhook = stripUndefined({
          url,
          secret_token: secret,
          allowed_updates: Array.isArray(allowed) ? (allowed as string[]) : undefined,
          max_connections: p.int("max_connections"),
        }) as NonNullable<BotApiServer["webhook"]>;
        return true;
      },
      deleteWebhook: (p) => {
        if (p.bool("drop_pending_updates")) this.updates = [];
        this.webhook = undefined;
        return true;
      },
      getWebhookInfo: () =>
        stripUndefined({
          url: this.webhook?.url ?? "",
          has_custom_certificate: false,
          pending_update_count: this.updates.length,
          max_connections: this.webhook?.max_connections,
          allowed_updates: this.webhook?.allowed_updates,
        }),
      getUpdates: () => {
        throw new Error("getUpdates is answered by route()");
      },

      sendMessage: (p) => {
        const state = this.chatFrom(p);
        noParseMode(p);
        const text = this.textFrom(p);
        const entities = entitiesFrom(p, "entities", text);
        const markup = markupFrom(p);
        p.json("link_preview_options", "can't parse link preview options JSON object");
        const { thread, replyTo } = sendCommon(p, state);
        this.floodGate(state.chat, "message");
        const msg = this.newMessage(state, this.botUser, { reply_to_message_id: replyTo, message_thread_id: thread });
        msg.text = text;
        if (entities) msg.entities = entities;
        if (markup !== undefined) msg.reply_markup = markup;
        return this.toApiMessage(msg);
      },

      editMessageText: (p) => {
        const { state, msg } = this.editTarget(p);
        noParseMode(p);
        const text = this.textFrom(p);
        const entities = entitiesFrom(p, "entities", text);
        const markup = markupFrom(p);
        p.json("link_preview_options", "can't parse link preview options JSON object");
        if (msg.text === undefined) throw badRequest("there is no text in the message to edit");
        if (msg.text === text && sameEntities(msg.entities, entities) && sameMarkup(msg.reply_markup, markup)) {
          throw badRequest(MESSAGE_NOT_MODIFIED.slice("Bad Request: ".length));
        }
        this.floodGate(state.chat, "message");
        return this.applyEdit(msg, { text, entities, reply_markup: markup });
      },

      editMessageCaption: (p) => {
        const { state, msg } = this.editTarget(p);
        noParseMode(p);
        const { caption, caption_entities } = this.captionFrom(p);
        const markup = markupFrom(p);
        if (!msg.photo && !msg.document && msg.photo_url === undefined) throw badRequest("there is no caption in the message to edit");
        if ((msg.caption ?? "") === (caption ?? "") && sameEntities(msg.caption_entities, caption_entities) && sameMarkup(msg.reply_markup, markup)) {
          throw badRequest(MESSAGE_NOT_MODIFIED.slice("Bad Request: ".length));
        }
        this.floodGate(state.chat, "message");
        return this.applyEdit(msg, { caption, caption_entities, reply_markup: markup });
      },

      editMessageReplyMarkup: (p) => {
        const { msg } = this.editTarget(p);
        const markup = markupFrom(p);
        if (sameMarkup(msg.reply_markup, markup)) throw badRequest(MESSAGE_NOT_MODIFIED.slice("Bad Request: ".length));
        return this.applyEdit(msg, { reply_markup: markup });
      },

      sendMessageDraft: (p) => {
        if (!this.draftsSupported) throw NOT_FOUND();
        const state = this.chatFrom(p);
        if (state.chat.type !== "private") throw badRequest("draft can't be sent to this chat");
        const draftId = p.int("draft_id");
        if (draftId === undefined || draftId === 0) throw badRequest("draft_id must be a non-zero integer");
        noParseMode(p);
        const text = p.str("text") ?? "";
        if (utf16Length(text) > MAX_TEXT) throw badRequest("message is too long");
        const entities = entitiesFrom(p, "entities", text);
        const thread = p.int("message_thread_id");
        p.bool("can_stop");
        p.bool("keep_on_stop");
        this.floodGate(state.chat, "draft");
        const update: DraftUpdate = stripUndefined({ at: Date.now(), draft_id: draftId, text, entities, message_thread_id: thread });
        const draft = state.drafts.get(draftId) ?? { draft_id: draftId, text, history: [] };
        draft.text = text;
        draft.entities = entities;
        draft.history.push(update);
        state.drafts.set(draftId, draft);
        return true;
      },

      sendChatAction: (p) => {
        this.chatFrom(p);
        const action = p.str("action");
        if (action === undefined || action === "") throw badRequest("parameter \"action\" is required");
        if (!CHAT_ACTIONS.has(action)) throw badRequest("wrong parameter action in request");
        p.int("message_thread_id");
        return true;
      },

      deleteMessage: (p) => {
        const state = this.chatFrom(p);
        const messageId = p.int("message_id");
        if (messageId === undefined) throw badRequest("message identifier is not specified");
        const msg = state.messages.get(messageId);
        if (!msg) throw badRequest("message to delete not found");
        if (state.chat.type !== "private" && msg.from.id !== this.botUser.id) {
          const status = state.members.get(this.botUser.id)?.status;
          if (status !== "administrator" && status !== "creator") throw badRequest("message can't be deleted");
        }
        this.floodGate(state.chat, "message");
        state.messages.delete(messageId);
        return true;
      },

      sendPhoto: (p) => {
        const state = this.chatFrom(p);
        noParseMode(p);
        const input = this.inputFile(p, "photo");
        const caption = this.captionFrom(p);
        const markup = markupFrom(p);
        p.bool("has_spoiler");
        const { thread, replyTo } = sendCommon(p, state);
        let photo: PhotoSize[];
        let photoUrl: string | undefined;
        if ("bytes" in input) {
          if (input.bytes.length === 0) throw badRequest("file must be non-empty");
          if (input.bytes.length > 10 * 1024 * 1024) throw badRequest("PHOTO_INVALID_DIMENSIONS");
          this.floodGate(state.chat, "message");
          const { width, height } = dimensions(input.bytes);
          const info = this.addFile(input.bytes, { mime: "image/jpeg", filePath: this.autoPath("photos", "jpg") });
          photo = [this.photoSize(info, width, height)];
        } else if ("fileId" in input) {
          this.floodGate(state.chat, "message");
          const file = this.files.get(input.fileId)!;
          const { width, height } = dimensions(file.bytes);
          photo = [this.photoSize(file, width, height)];
        } else {
          this.floodGate(state.chat, "message");
          photoUrl = input.url;
          photo = [this.photoSize(this.addFile(new Uint8Array(0), { filePath: this.autoPath("photos", "jpg") }), 0, 0)];
        }
        const msg = this.newMessage(state, this.botUser, { reply_to_message_id: replyTo, message_thread_id: thread });
        msg.photo = photo;
        if (photoUrl !== undefined) msg.photo_url = photoUrl;
        Object.assign(msg, caption);
        if (markup !== undefined) msg.reply_markup = markup;
        return this.toApiMessage(msg);
      },

      sendDocument: (p) => {
        const state = this.chatFrom(p);
        noParseMode(p);
        const input = this.inputFile(p, "document");
        const caption = this.captionFrom(p);
        const markup = markupFrom(p);
        const { thread, replyTo } = sendCommon(p, state);
        let document: DocumentInfo;
        if ("bytes" in input) {
          if (input.bytes.length === 0) throw badRequest("file must be non-empty");
          if (input.bytes.length > 50 * 1024 * 1024) throw new ApiError(413, "Request Entity Too Large");
          this.floodGate(state.chat, "message");
          const fileName = input.filename ?? "document.dat";
          const mime = input.mime && input.mime !== "application/octet-stream" ? input.mime : guessMime(fileName);
          const info = this.addFile(input.bytes, { mime, filePath: this.autoPath("documents", extensionOf(fileName) ?? "dat") });
          document = { ...info, file_name: fileName, mime_type: mime };
          delete (document as Partial<FileInfo>).file_path;
        } else if ("fileId" in input) {
          this.floodGate(state.chat, "message");
          const file = this.files.get(input.fileId)!;
          document = stripUndefined({ file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, mime_type: file.mime });
        } else {
          this.floodGate(state.chat, "message");
          const info = this.addFile(new Uint8Array(0));
          document = { file_id: info.file_id, file_unique_id: info.file_unique_id, file_size: 0, file_name: input.url.split("/").pop() };
        }
        const msg = this.newMessage(state, this.botUser, { reply_to_message_id: replyTo, message_thread_id: thread });
        msg.document = document;
        Object.assign(msg, caption);
        if (markup !== undefined) msg.reply_markup = markup;
        return this.toApiMessage(msg);
      },

      answerCallbackQuery: (p) => {
        const id = p.str("callback_query_id");
        if (id === undefined || id === "") throw badRequest("parameter \"callback_query_id\" is required");
        p.str("text");
        p.bool("show_alert");
        p.int("cache_time");
        if (!this.callbackQueries.delete(id)) {
          throw badRequest("query is too old and response timeout expired or query ID is invalid");
        }
        return true;
      },

      getFile: (p) => {
        const id = p.str("file_id");
        if (id === undefined || id === "") throw badRequest("file_id is empty");
        const file = this.files.get(id);
        if (!file) throw badRequest("invalid file_id");
        if (file.file_size > MAX_DOWNLOAD) throw badRequest("file is too big");
        return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, file_path: file.file_path };
      },

      getChat: (p) => {
        const { chat } = this.chatFrom(p);
        return { ...this.chatInfo(chat), accent_color_id: 0, max_reaction_count: 11, accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false } };
      },

      getChatMember: (p) => {
        const state = this.chatFrom(p);
        const userId = p.int("user_id");
        if (userId === undefined) throw badRequest("user_id is empty");
        const member = state.members.get(userId);
        if (member) return chatMember(member.user, member.status);
        const user = this.users.get(userId);
        if (!user) throw badRequest("user not found");
        if (state.chat.type === "private") return chatMember(user, userId === state.chat.id || userId === this.botUser.id ? "member" : "left");
        return chatMember(user, "left");
      },

      getChatAdministrators: (p) => {
        const state = this.chatFrom(p);
        if (state.chat.type === "private") throw badRequest("there are no administrators in the private chat");
        return [...state.members.values()]
          .filter((m) => m.status === "creator" || m.status === "administrator")
          .map((m) => chatMember(m.user, m.status));
      },
    };
    return Object.fromEntries(Object.entries(handlers).map(([k, v]) => [k.toLowerCase(), v]));
  }

  private scopeFrom(p: Params): Json {
    const scope = p.json("scope", "can't parse BotCommandScope JSON object");
    if (scope === undefined) return { type: "default" };
    if (!isObject(scope) || typeof scope.type !== "string") throw badRequest("can't parse BotCommandScope JSON object");
    return scope;
  }
}


// ---------------------------------------------------------------------------------------------------------------
// Free helpers

function commandsKey(scope: Json | undefined, languageCode: string): string {
  return `${canonical(scope ?? { type: "default" })}|${languageCode}`;
}

function dimensions(bytes: Uint8Array): { width: number; height: number } {
  try {
    const size = imageSize(bytes);
    return { width: size.width ?? 0, height: size.height ?? 0 };
  } catch {
    return { width: 0, height: 0 };
  }
}

function extensionOf(fileName: string): string | undefined {
  const match = /\.([A-Za-z0-9]{1,8})$/.exec(fileName);
  return match?.[1]?.toLowerCase();
}

function guessMime(fileName: string): string {
  const ext = extensionOf(fileName);
  const known: Record<string, string> = {
    jpg: "image/jpeg",
    jpeg: "image/jpeg",
    png: "image/png",
    webp: "image/webp",
    gif: "image/gif",
    pdf: "application/pdf",
    txt: "text/plain",
    json: "application/json",
  };
  return (ext && known[ext]) ?? "application/octet-stream";
}

function chatMember(user: FakeUser, status: ChatMemberStatus): Json {
  const u = stripUndefined({ ...user, is_bot: user.is_bot ?? false });
  switch (status) {
    case "creator":
      return { status, user: u, is_anonymous: false };
    case "administrator":
      return {
        status,
        user: u,
        can_be_edited: false,
        is_anonymous: false,
        can_manage_chat: true,
        can_delete_messages: true,
        can_manage_video_chats: true,
        can_restrict_members: true,
        can_promote_members: false,
        can_change_info: true,
        can_invite_users: true,
        can_post_stories: false,
        can_edit_stories: false,
        can_delete_stories: false,
        can_pin_messages: true,
      };
    case "kicked":
      return { status, user: u, until_date: 0 };
    default:
      return { status, user: u };
  }
}

/** Starts the fake Bot API on 127.0.0.1 with a random port. */
export async function startBotApiServer(opts: BotApiServerOptions = {}): Promise<BotApiServer> {
  return startFake((server, origin) => new BotApiServer(server, origin, opts));
}

