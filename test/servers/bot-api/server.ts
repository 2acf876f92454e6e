// The HTTP face of the fake Bot API: `/bot<token>/<method>` (GET or POST; 401 for a wrong token, 404 for an unknown
// method) and `/file/bot<token>/<file_path>` downloads, answered like Telegram (`{ ok, result }` or
// `{ ok: false, error_code, description, parameters }`). BotApiServer composes the concerns (chats, messages, drafts,
// media, files, updates, the bot's profile, flood control) behind the one object tests drive and observe; it logs
// every call, can fail the next calls of a method on demand, and can delay every answer.
import { EventEmitter } from "node:events";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Message } from "grammy/types";
import { BodyTooLargeError, closeServer, sendJson, sleep, startFake } from "../http-util.js";
import { BotProfile } from "./bot-profile.js";
import { Chats } from "./chats.js";
import { methodTable, NO_ANSWER, type Handler, type MethodContext } from "./dispatch.js";
import { Drafts } from "./drafts.js";
import { downloadPath, FileStore, sendFile } from "./files.js";
import { DEFAULT_LIMITS, FloodControl } from "./flood-limits.js";
import type { Json } from "./json.js";
import { Media } from "./media.js";
import { Messages } from "./messages.js";
import { ApiError, badRequest, decodeParams, NOT_FOUND, type Params } from "./params.js";
import type {
  ApiErrorBody,
  BotApiServerOptions,
  BotApiStats,
  BotUser,
  Call,
  ChatMemberStatus,
  DraftState,
  FakeChat,
  FakeUser,
  FileInfo,
  FloodLimits,
  StoredMessage,
  UserSendsOptions,
  WaitForOptions,
} from "./types.js";
import { UpdateQueue, type Webhook } from "./updates.js";
import { userPresses, userSends, type World } from "./user-actions.js";

/** `/bot<token>/<method>`. */
const METHOD_PATH = /^\/bot([^/]*)\/([A-Za-z0-9_]*)$/;

export class BotApiServer extends EventEmitter {
  readonly apiRoot: string;
  readonly token: string;
  readonly botUser: BotUser;
  readonly calls: Call[] = [];
  readonly stats: BotApiStats = { tooManyRequests: 0, tooManyRequestsByChat: new Map(), counted: 0 };
  /** Mutable: tests may tighten or loosen windows at any time. */
  readonly limits: FloodLimits;
  latencyMs: number;

  private readonly chats: Chats;
  private readonly files = new FileStore();
  private readonly profile: BotProfile;
  private readonly messageStore: Messages;
  private readonly draftStore: Drafts;
  private readonly updates: UpdateQueue;
  private readonly world: World;
  private readonly failures = new Map<string, Array<ApiErrorBody>>();
  private readonly handlers: ReadonlyMap<string, Handler>;
  private closed = false;

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
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.latencyMs = opts.latencyMs ?? 0;
    const flood = new FloodControl(this.limits, this.stats);
    this.chats = new Chats(this.botUser);
    this.profile = new BotProfile(this.botUser);
    this.messageStore = new Messages(this.chats, this.botUser, flood);
    this.draftStore = new Drafts(this.chats, flood, opts.draftsSupported ?? true);
    this.updates = new UpdateQueue((update) => this.emit("update", update));
    this.world = { chats: this.chats, messages: this.messageStore, files: this.files, updates: this.updates };
    this.handlers = methodTable(
      this.profile.methods(),
      this.updates.methods(),
      this.chats.methods(),
      this.messageStore.methods(),
      this.draftStore.methods(),
      new Media(this.chats, this.messageStore, this.files, flood, this.botUser).methods(),
      this.files.methods(),
    );
  }

  /** `false` makes sendMessageDraft answer 404 like a server older than Bot API 9.3. */
  get draftsSupported(): boolean {
    return this.draftStore.supported;
  }

  set draftsSupported(supported: boolean) {
    this.draftStore.supported = supported;
  }

  /** Stored webhook (setWebhook); while set, getUpdates answers 409 like Telegram. */
  get webhook(): Webhook | undefined {
    return this.updates.webhook;
  }

  set webhook(webhook: Webhook | undefined) {
    this.updates.webhook = webhook;
  }

  // ---- simulation API -------------------------------------------------------------------------------------

  addUser(user: FakeUser): FakeUser {
    return this.chats.addUser(user);
  }

  /** Registers a chat. A private chat's id is its user's id; the user is registered too. */
  addChat(chat: FakeChat): FakeChat {
    return this.chats.addChat(chat);
  }

  setChatMember(chatId: number, user: FakeUser | number, status: ChatMemberStatus): void {
    this.chats.setChatMember(chatId, user, status);
  }

  /** A user writes to the bot: stores the message and queues a `message` update. Returns the Bot API Message. */
  userSends(opts: UserSendsOptions): Message {
    return userSends(this.world, opts);
  }

  /**
   * A user presses an inline button of a bot message: queues a callback_query update and returns its id
   * (answerCallbackQuery accepts it once).
   */
  userPresses(opts: { chat: number; from: FakeUser | number; messageId: number; data: string }): string {
    return userPresses(this.world, opts);
  }

  /** Queues any update (update_id assigned when missing). Callback query ids become answerable. */
  pushUpdate(raw: Json): Json {
    return this.updates.push(raw);
  }

  /** Adds a downloadable file. */
  addFile(bytes: Uint8Array, opts: { filePath?: string; mime?: string } = {}): FileInfo {
    return this.files.add(bytes, opts);
  }

  fileBytes(fileId: string): Uint8Array | undefined {
    return this.files.get(fileId)?.bytes;
  }

  // ---- observation API ------------------------------------------------------------------------------------

  /** Current messages of a chat (bot and user), by message_id, deleted ones excluded. */
  messages(chatId: number): StoredMessage[] {
    return this.messageStore.list(chatId);
  }

  botMessages(chatId: number): StoredMessage[] {
    return this.messages(chatId).filter((m) => m.from.id === this.botUser.id);
  }

  message(chatId: number, messageId: number): StoredMessage | undefined {
    return this.messageStore.get(chatId, messageId);
  }

  drafts(chatId: number): DraftState[] {
    return this.draftStore.list(chatId);
  }

  chat(chatId: number): FakeChat | undefined {
    return this.chats.state(chatId)?.chat;
  }

  /** Commands stored by setMyCommands for a scope (default `{type:"default"}`) and language code. */
  myCommands(scope?: Json, languageCode = ""): unknown[] | undefined {
    return this.profile.myCommands(scope, languageCode);
  }

  /** Updates not yet confirmed by getUpdates. */
  pendingUpdates(): Json[] {
    return this.updates.pending();
  }

  /** The Bot API `Message` for a stored message. */
  toApiMessage(msg: StoredMessage, withReply = true): Json {
    return this.messageStore.toApi(msg, withReply);
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
    this.updates.close();
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
    const download = downloadPath(url.pathname);
    if (download && (req.method === "GET" || req.method === "HEAD")) {
      await this.delay();
      if (download.token !== this.token) return this.answerError(res, new ApiError(401, "Unauthorized"));
      const file = this.files.atPath(decodeURIComponent(download.encodedPath));
      if (!file) return this.answerError(res, NOT_FOUND());
      sendFile(res, file, req.method === "HEAD");
      return;
    }
    const match = METHOD_PATH.exec(url.pathname);
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
    const handler = this.handlers.get(key);
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
    const ctx: MethodContext = {
      onClientGone: (listener) => {
        res.on("close", listener);
      },
    };
    let result: unknown;
    let error: ApiError | undefined;
    try {
      const answer = handler(params, ctx);
      // Only a long poll answers later; every other handler's result is used as is (no extra tick).
      result = answer instanceof Promise ? await answer : answer;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      error = err;
    }
    if (result === NO_ANSWER) return;
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
}

/** Starts the fake Bot API on 127.0.0.1 with a random port. */
export async function startBotApiServer(opts: BotApiServerOptions = {}): Promise<BotApiServer> {
  return startFake((server, origin) => new BotApiServer(server, origin, opts));
}
