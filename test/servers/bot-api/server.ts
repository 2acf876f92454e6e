// The HTTP face of the fake Bot API: `/bot<token>/<method>` (GET or POST; 401 for a wrong token, 404 for an unknown
// method) and `/file/bot<token>/<file_path>` downloads, answered like Telegram (`{ ok, result }` or
// `{ ok: false, error_code, description, parameters }`). BotApiServer composes the concerns (chats and membership,
// forum topics, channels, messages, ephemeral messages, drafts, media, files, updates and webhook delivery, inline
// and guest mode, the bot's profile, flood control) behind the one object tests drive and observe; it logs every
// call, can fail the next calls of a method on demand, and can delay every answer.
import { EventEmitter } from "node:events";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Message } from "grammy/types";
import { BodyTooLargeError, closeServer, sendJson, sleep, startFake } from "../http-util.js";
import { BotProfile } from "./bot-profile.js";
import { Channels } from "./channels.js";
import { chatActionMethods } from "./chat-actions.js";
import { Chats } from "./chats.js";
import { methodTable, NO_ANSWER, type Handler, type MethodContext } from "./dispatch.js";
import { Drafts } from "./drafts.js";
import { Ephemeral } from "./ephemeral.js";
import { downloadPath, FileStore, sendFile } from "./files.js";
import { DEFAULT_LIMITS, FloodControl } from "./flood-limits.js";
import { ForumTopics } from "./forum-topics.js";
import { GuestMode } from "./guest.js";
import { InlineMode, type InlineAnswer } from "./inline.js";
import type { Json } from "./json.js";
import { Media } from "./media.js";
import { Membership } from "./membership.js";
import { Messages } from "./messages.js";
import { ApiError, badRequest, decodeParams, NOT_FOUND, Params } from "./params.js";
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
  ForumTopicState,
  StoredMessage,
  UserSendsOptions,
  WaitForOptions,
} from "./types.js";
import { UpdateQueue, type Webhook } from "./updates.js";
import { DEFAULT_WEBHOOK_DELIVERY } from "./webhook-delivery.js";
import {
  userEdits,
  userPastes,
  userPresses,
  userSends,
  userSendsAlbum,
  type AlbumItem,
  type World,
} from "./user-actions.js";

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
  private readonly membership: Membership;
  private readonly topicStore: ForumTopics;
  private readonly channels: Channels;
  private readonly ephemeral: Ephemeral;
  private readonly inline: InlineMode;
  private readonly guest: GuestMode;
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
    this.chats.privateTopics = opts.privateChatTopics ?? false;
    this.updates = new UpdateQueue(
      (update) => this.emit("update", update),
      (method, params) => this.invoke(method, params),
      { ...DEFAULT_WEBHOOK_DELIVERY, ...opts.webhookDelivery },
      opts.allowHttpWebhooks ?? true,
    );
    this.ephemeral = new Ephemeral(this.chats, this.updates, flood, this.botUser, opts.ephemeralSupported ?? true);
    this.messageStore = new Messages(this.chats, this.botUser, flood, this.ephemeral);
    this.topicStore = new ForumTopics(this.chats, this.messageStore, flood, this.botUser);
    this.channels = new Channels(this.chats, this.messageStore, this.updates);
    this.messageStore.afterBotSend = (msg) => this.channels.botPosted(msg);
    this.membership = new Membership(this.chats, this.botUser, this.updates);
    this.draftStore = new Drafts(this.chats, flood, this.updates, this.botUser, opts.draftsSupported ?? true);
    this.world = {
      chats: this.chats,
      messages: this.messageStore,
      files: this.files,
      updates: this.updates,
      topics: this.topicStore,
      botUser: this.botUser,
    };
    this.inline = new InlineMode(this.chats, this.messageStore, this.updates, opts.inlineMode ?? true, opts.inlineFeedback ?? true);
    this.guest = new GuestMode(this.world, flood, opts.guestMode ?? true);
    this.profile = new BotProfile(this.botUser, () => ({ inline: this.inline.enabled, guest: this.guest.enabled, privateTopics: this.chats.privateTopics }));
    this.handlers = methodTable(
      this.profile.methods(),
      this.updates.methods(),
      this.chats.methods(),
      chatActionMethods(this.chats, this.botUser),
      this.topicStore.methods(),
      this.messageStore.methods(),
      this.ephemeral.methods(),
      this.draftStore.methods(),
      new Media(this.chats, this.messageStore, this.files).methods(),
      this.files.methods(),
      this.inline.methods(),
      this.guest.methods(),
    );
  }

  /** `false` makes sendMessageDraft answer 404 like a server older than Bot API 9.3. */
  get draftsSupported(): boolean {
    return this.draftStore.supported;
  }

  set draftsSupported(supported: boolean) {
    this.draftStore.supported = supported;
  }

  /** `false` refuses every ephemeral message ("ephemeral messages are not supported in the chat"). */
  get ephemeralSupported(): boolean {
    return this.ephemeral.supported;
  }

  set ephemeralSupported(supported: boolean) {
    this.ephemeral.supported = supported;
  }

  /** Inline mode on in BotFather (getMe supports_inline_queries). */
  get inlineMode(): boolean {
    return this.inline.enabled;
  }

  set inlineMode(enabled: boolean) {
    this.inline.enabled = enabled;
  }

  /** Inline feedback on: chosen_inline_result updates are sent. */
  get inlineFeedback(): boolean {
    return this.inline.feedback;
  }

  set inlineFeedback(enabled: boolean) {
    this.inline.feedback = enabled;
  }

  /** Guest mode on (getMe supports_guest_queries). */
  get guestMode(): boolean {
    return this.guest.enabled;
  }

  set guestMode(enabled: boolean) {
    this.guest.enabled = enabled;
  }

  /** Accept plain http:// webhook URLs on any port (tests); updates still go to loopback addresses only. */
  get allowHttpWebhooks(): boolean {
    return this.updates.allowHttpWebhooks;
  }

  set allowHttpWebhooks(allow: boolean) {
    this.updates.allowHttpWebhooks = allow;
  }

  /** Stored webhook (setWebhook); while set, updates are POSTed to it and getUpdates answers 409 like Telegram. */
  get webhook(): Webhook | undefined {
    return this.updates.webhook;
  }

  set webhook(webhook: Webhook | undefined) {
    this.updates.webhook = webhook;
    this.updates.delivery.reset();
    this.updates.delivery.kick();
  }

  /** The allowed_updates in force, as the last getUpdates or setWebhook set them ([] = Telegram's default set). */
  get allowedUpdates(): string[] {
    return this.updates.allowed;
  }

  // ---- simulation API -------------------------------------------------------------------------------------

  addUser(user: FakeUser): FakeUser {
    return this.chats.addUser(user);
  }

  /**
   * Registers a chat. A private chat's id is its user's id; the user is registered too. The bot is a member of a new
   * group or supergroup and an administrator of a new channel (change it with setChatMember or removeBot).
   */
  addChat(chat: FakeChat): FakeChat {
    return this.chats.addChat(chat);
  }

  /** Sets a member's status (the bot's own too, without an update: use removeBot/kickBot/setBotStatus for that). */
  setChatMember(chatId: number, user: FakeUser | number, status: ChatMemberStatus): void {
    this.chats.setChatMember(chatId, user, status);
  }

  /** Changes the bot's status in a group or channel and queues my_chat_member (`by`: who did it; default an admin). */
  setBotStatus(chatId: number, status: ChatMemberStatus, by?: FakeUser | number): void {
    this.membership.setBotStatus(chatId, status, by);
  }

  /** The bot leaves (is removed from) a group or channel: sends there answer 403 "bot is not a member of the … chat". */
  removeBot(chatId: number, by?: FakeUser | number): void {
    this.membership.setBotStatus(chatId, "left", by);
  }

  /** The bot is banned from a group or channel: sends there answer 403 "bot was kicked from the … chat". */
  kickBot(chatId: number, by?: FakeUser | number): void {
    this.membership.setBotStatus(chatId, "kicked", by);
  }

  /** A user blocks the bot: sends to them answer 403 "Forbidden: bot was blocked by the user"; my_chat_member is queued. */
  userBlocksBot(user: FakeUser | number): void {
    this.membership.setBlocked(user, true);
  }

  /** A user unblocks the bot (my_chat_member queued). */
  userUnblocksBot(user: FakeUser | number): void {
    this.membership.setBlocked(user, false);
  }

  /** Links a channel and its discussion group: every post is then copied into the group as an automatic forward. */
  linkDiscussionGroup(channelId: number, groupId: number): void {
    this.chats.link(channelId, groupId);
  }

  /**
   * An admin posts in a channel: channel_post is queued (the bot is an administrator there by default) and the post
   * is copied into the linked discussion group as an automatic forward (a `message` there).
   */
  channelPost(opts: { channel: FakeChat | number; text: string; author_signature?: string }): { post: Message; forward?: Message } {
    return this.channels.post(opts);
  }

  /**
   * Opens a forum topic in a forum supergroup (or a private chat with privateChatTopics): its opening message's id
   * is the topic's message_thread_id. `id` picks that id when free.
   */
  createTopic(chatId: number, opts: { name?: string; creator?: FakeUser | number; id?: number } = {}): ForumTopicState {
    return this.topicStore.open(chatId, opts);
  }

  /** A chat's topics (mutable: set `closed` to close one). */
  topics(chatId: number): ForumTopicState[] {
    return [...(this.chats.state(chatId)?.topics.values() ?? [])];
  }

  /**
   * A user writes: stores the message and queues a `message` update (when the bot is in the chat). Text, photo,
   * document, voice, audio, video note; replies with a quote, topics, forwards, sender chats. Returns the Message.
   */
  userSends(opts: UserSendsOptions): Message {
    return userSends(this.world, opts);
  }

  /** A user sends an album: 2-10 photos or documents sharing a media_group_id, one update each in quick succession. */
  userSendsAlbum(opts: Omit<UserSendsOptions, "text" | "photo" | "photoSizes" | "document" | "voice" | "audio" | "videoNote" | "mediaGroupId"> & { items: AlbumItem[] }): Message[] {
    return userSendsAlbum(this.world, opts);
  }

  /** A user pastes a text: over 4096 characters the client sends it as several messages, split where clients split. */
  userPastes(opts: Omit<UserSendsOptions, "text"> & { text: string }): Message[] {
    return userPastes(this.world, opts);
  }

  /** A user edits their message's text (or caption): queues edited_message with edit_date. */
  userEdits(opts: { chat: number; messageId: number; text: string; entities?: StoredMessage["entities"] }): Message {
    return userEdits(this.world, opts);
  }

  /**
   * A user presses an inline button of a bot message (by messageId), of an ephemeral message shown to them
   * (ephemeralMessageId) or of an inline-mode message (inlineMessageId): queues a callback_query update and returns
   * its id (answerCallbackQuery accepts it once). Any `data` may be pressed: Telegram delivers what the client had,
   * even when the keyboard no longer has that button.
   */
  userPresses(opts: { chat?: number; from: FakeUser | number; messageId?: number; ephemeralMessageId?: number; inlineMessageId?: string; data: string }): string {
    return userPresses(this.world, opts);
  }

  /**
   * The user presses the stop button of a draft (default: the one they see now in the chat and thread). Queues
   * stopped_message_generation and returns true only when that draft was sent with can_stop; the draft disappears
   * unless it was sent with keep_on_stop.
   */
  userStopsDraft(opts: { chat: number; draftId?: number; threadId?: number }): boolean {
    return this.draftStore.stop(opts);
  }

  /** A user types `@bot query`: queues inline_query and returns its id. */
  userTypesInline(opts: { from: FakeUser | number; query: string; chatType?: "sender" | "private" | "group" | "supergroup" | "channel"; offset?: string }): string {
    return this.inline.userTypes(opts);
  }

  /**
   * The user picks a result of the bot's answer to an inline query: it is sent into `chat` as the user's message via
   * the bot; chosen_inline_result is queued (inline feedback on), with an inline_message_id only when the result had
   * an inline keyboard.
   */
  userChoosesInlineResult(opts: { queryId: string; resultId: string; chat: number }): { message: Message; inlineMessageId?: string } {
    return this.inline.userChooses(opts);
  }

  /**
   * A user summons the bot as a guest in a group it is not a member of: their message is posted and a guest_message
   * update (Message with guest_query_id) queued. Returns that Message.
   */
  userSummonsGuest(opts: { chat: number; from: FakeUser | number; text: string; replyTo?: number }): Message {
    return this.guest.userSummons(opts);
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

  /** The draft a user sees now in the chat (and thread), if any. */
  visibleDraft(chatId: number, threadId?: number): DraftState | undefined {
    return this.draftStore.visible(chatId, threadId);
  }

  /** Ephemeral messages of a chat (every receiver's). */
  ephemeralMessages(chatId: number): StoredMessage[] {
    return this.ephemeral.list(chatId);
  }

  /** What one user sees in a chat: its messages (less those an ephemeral message replaced for them) and their ephemeral ones. */
  visibleTo(chatId: number, userId: number): StoredMessage[] {
    return this.ephemeral.visibleTo(chatId, userId);
  }

  /** The message an inline_message_id names (inline mode, guest answers). */
  inlineMessage(inlineMessageId: string): StoredMessage | undefined {
    return this.messageStore.inlineMessage(inlineMessageId);
  }

  /** The bot's answer to an inline query. */
  inlineAnswer(queryId: string): InlineAnswer | undefined {
    return this.inline.answer(queryId);
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

  /** A method named in a webhook's reply: run like a request (logged, errors only logged). */
  private invoke(method: string, raw: Json): void {
    const handler = this.handlers.get(method.toLowerCase());
    const params = new Params(raw, new Map());
    const call: Call = { method, params: params.decoded, at: Date.now(), status: 200 };
    try {
      if (!handler) throw NOT_FOUND();
      const result = handler(params, { onClientGone: () => undefined });
      if (result instanceof Promise) throw badRequest(`${method} can't be used in a webhook reply`);
      call.result = result;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      call.status = err.code;
      call.error = { error_code: err.code, description: err.description };
    }
    this.calls.push(call);
    this.emit("call", call);
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
