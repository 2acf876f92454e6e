/**
 * The pacer's windows shared by every instance of the bot through Redis, so Telegram's limits (about 30 updates a
 * second for the whole bot, about 20 a minute and 1 a second in a group, a few drafts a second in a chat) hold for
 * the bot as a whole, however many instances send.
 *
 * The rules are the in-memory Pacer's (pacer.ts), decided in one Lua script per attempt: it prunes the windows, works
 * out the wait exactly as Pacer.delay does (reserves for intermediate updates, intervals, 429 blocks) and, when there
 * is none, records the slot in every window it belongs to, all in one atomic step on the server's clock (TIME), so two
 * instances can never both take the last place in a window and their clocks never need to agree. Windows are sorted
 * sets (score = time, member = slot id); the chat's last update times and its 429 block are a hash.
 *
 * If Redis cannot be reached, the instance paces with in-memory windows of its own until it can again: answers keep
 * going out, at the cost of not seeing the other instances meanwhile.
 */
import { createHash, randomUUID } from "node:crypto";
import { DEFAULT_LIMITS, Pacer, sleep, type ChatKind, type Pacing, type PacerKey, type PacerLimits, type Slot, type UpdateKind } from "./pacer.js";

/** A Lua script and its SHA1 (what EVALSHA names it by). */
export interface WindowScript {
  source: string;
  sha: string;
}

/** Where the windows live: runs scripts by EVALSHA on keys of the store's namespace (store.scripts with Redis). */
export interface PacerWindowStore {
  runScript(script: WindowScript, keys: string[], args: Array<string | number>): Promise<unknown>;
  /** The full key for a name (the store's namespace in front). */
  key(name: string): string;
}

const script = (source: string): WindowScript => ({ source, sha: createHash("sha1").update(source).digest("hex") });

const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: global window, global block, chat window, draft window, group window ('' when not a group), chat state hash.
 * ARGV: kind (draft|message), intermediate (1|0), member, interval (ms, 0: none), the field of the last update the
 * interval counts from, then limit/window/reserve of global, group, chat, draft, and the hash's lifetime.
 * Returns {1, now} with the slot recorded, or {0, wait ms}.
 */
const ACQUIRE = script(`${NOW}
local kind, intermediate, member = ARGV[1], ARGV[2] == '1', ARGV[3]
local interval, lastField = tonumber(ARGV[4]), ARGV[5]
local function waitFor(key, limit, windowMs, reserve)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowMs)
  local allowed = limit - reserve
  local n = redis.call('ZCARD', key)
  if n < allowed then return 0 end
  local e = redis.call('ZRANGE', key, n - allowed, n - allowed, 'WITHSCORES')
  return tonumber(e[2]) + windowMs - now + 1
end
local gLimit, gWindow, gReserve = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local grLimit, grWindow, grReserve = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local cLimit, cWindow = tonumber(ARGV[12]), tonumber(ARGV[13])
local dLimit, dWindow = tonumber(ARGV[14]), tonumber(ARGV[15])
local stateTtl = tonumber(ARGV[16])
local wait = waitFor(KEYS[1], gLimit, gWindow, intermediate and gReserve or 0)
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
wait = math.max(wait, blocked - now)
local state = redis.call('HMGET', KEYS[6], 'blocked', lastField)
wait = math.max(wait, tonumber(state[1] or '0') - now)
if kind == 'draft' then
  wait = math.max(wait, waitFor(KEYS[4], dLimit, dWindow, 0))
else
  wait = math.max(wait, waitFor(KEYS[3], cLimit, cWindow, 0))
  if KEYS[5] ~= '' then wait = math.max(wait, waitFor(KEYS[5], grLimit, grWindow, intermediate and grReserve or 0)) end
end
if interval > 0 then wait = math.max(wait, tonumber(state[2] or '0') + interval - now) end
if wait > 0 then return {0, wait} end
redis.call('ZADD', KEYS[1], now, member)
redis.call('PEXPIRE', KEYS[1], gWindow * 2)
if kind == 'draft' then
  redis.call('ZADD', KEYS[4], now, member)
  redis.call('PEXPIRE', KEYS[4], dWindow * 2)
else
  redis.call('ZADD', KEYS[3], now, member)
  redis.call('PEXPIRE', KEYS[3], cWindow * 2)
  if KEYS[5] ~= '' then
    redis.call('ZADD', KEYS[5], now, member)
    redis.call('PEXPIRE', KEYS[5], grWindow * 2)
  end
end
redis.call('HSET', KEYS[6], 'last_' .. kind, now)
redis.call('PEXPIRE', KEYS[6], stateTtl)
return {1, now}`);

/** KEYS: the windows a slot is in. ARGV: member. Moves the slot to now (see Pacer.settle), only ever later. */
const SETTLE = script(`${NOW}
for _, key in ipairs(KEYS) do redis.call('ZADD', key, 'XX', 'GT', now, ARGV[1]) end
return now`);

/** KEYS: chat state hash, global block (or none). ARGV: ms to block, state lifetime. */
const PENALIZE = script(`${NOW}
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'blocked') or '0')
if untilMs > current then redis.call('HSET', KEYS[1], 'blocked', untilMs) end
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[2]), tonumber(ARGV[1]) + 1000))
if KEYS[2] then
  local g = tonumber(redis.call('GET', KEYS[2]) or '0')
  if untilMs > g then redis.call('SET', KEYS[2], untilMs, 'PX', tonumber(ARGV[1]) + 1000) end
end
return untilMs`);

/** A slot in the shared windows: the member to move when it settles, and which windows hold it. */
interface SharedSlot extends Slot {
  member: string;
  windows: string[];
  /** Taken from the local fallback while Redis was unreachable. */
  local?: Slot;
}

/** Pacing with windows in Redis, for several instances behind one webhook (STORE_URL=redis://). */
export class SharedPacer implements Pacing {
  /** Per chat and kind: not worth asking Redis before this time (what its last refusal said). */
  readonly #notBefore = new Map<string, number>();
  readonly #fallback: Pacer;

  constructor(
    private readonly store: PacerWindowStore,
    private readonly limits: PacerLimits = DEFAULT_LIMITS,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.#fallback = new Pacer(limits);
  }

  /** A hint from the last refusal (no round trip): the script decides when the slot is asked for. */
  delay(chatId: PacerKey, _chatKind: ChatKind, kind: UpdateKind, intermediate: boolean): number {
    const hint = this.#notBefore.get(this.#hintKey(chatId, kind, intermediate));
    return hint === undefined ? 0 : Math.max(0, hint - Date.now());
  }

  async tryIntermediate(chatId: PacerKey, chatKind: ChatKind, kind: UpdateKind): Promise<Slot | undefined> {
    const result = await this.#acquire(chatId, chatKind, kind, true);
    return "wait" in result ? undefined : result;
  }

  async acquireFinal(chatId: PacerKey, chatKind: ChatKind, kind: UpdateKind, signal?: AbortSignal): Promise<Slot> {
    for (;;) {
      signal?.throwIfAborted();
      const result = await this.#acquire(chatId, chatKind, kind, false);
      if (!("wait" in result)) return result;
      await sleep(result.wait, signal);
    }
  }

  settle(slot: Slot): void {
    const shared = slot as SharedSlot;
    if (shared.local) return this.#fallback.settle(shared.local);
    slot.at = Math.max(slot.at, Date.now());
    this.store.runScript(SETTLE, shared.windows, [shared.member]).catch(this.onError);
  }

  /** Callers need not wait (Pacing says void); the promise is there for those that want to know it is in Redis. */
  async penalize(chatId: PacerKey, chatKind: ChatKind, retryAfterSeconds: number, global = false): Promise<void> {
    this.#fallback.penalize(chatId, chatKind, retryAfterSeconds, global);
    const keys = [this.#key(`chat:${chatId}:state`), ...(global ? [this.#key("global:blocked")] : [])];
    await this.store.runScript(PENALIZE, keys, [Math.ceil(retryAfterSeconds * 1000), this.limits.group.windowMs + 60_000]).catch(this.onError);
  }

  async #acquire(chatId: PacerKey, chatKind: ChatKind, kind: UpdateKind, intermediate: boolean): Promise<SharedSlot | { wait: number }> {
    const l = this.limits;
    const interval = intermediate
      ? kind === "draft"
        ? l.intermediateIntervalMs.draft
        : chatKind === "group"
          ? l.intermediateIntervalMs.groupEdit
          : l.intermediateIntervalMs.privateEdit
      : kind === "message" && chatKind === "group"
        ? l.groupIntervalMs
        : 0;
    const chat = `chat:${chatId}`;
    const keys = [
      this.#key("global"),
      this.#key("global:blocked"),
      this.#key(`${chat}:messages`),
      this.#key(`${chat}:drafts`),
      chatKind === "group" ? this.#key(`${chat}:group`) : "",
      this.#key(`${chat}:state`),
    ];
    const member = randomUUID();
    let reply: unknown;
    try {
      reply = await this.store.runScript(ACQUIRE, keys, [
        kind,
        intermediate ? 1 : 0,
        member,
        interval,
        `last_${kind}`,
        l.global.limit,
        l.global.windowMs,
        l.global.reserve,
        l.group.limit,
        l.group.windowMs,
        l.group.reserve,
        l.chat.limit,
        l.chat.windowMs,
        l.draft.limit,
        l.draft.windowMs,
        l.group.windowMs + 60_000,
      ]);
    } catch (error) {
      this.onError(error);
      return this.#acquireLocally(chatId, chatKind, kind, intermediate);
    }
    const [granted, value] = (reply as [number, number]).map(Number) as [number, number];
    const hintKey = this.#hintKey(chatId, kind, intermediate);
    if (granted !== 1) {
      if (this.#notBefore.size >= 10_000) this.#forgetPastHints();
      this.#notBefore.set(hintKey, Date.now() + value);
      return { wait: value };
    }
    this.#notBefore.delete(hintKey);
    const windows = [keys[0]!, ...(kind === "draft" ? [keys[3]!] : [keys[2]!, ...(keys[4] ? [keys[4]] : [])])];
    return { at: value, member, windows };
  }

  async #acquireLocally(chatId: PacerKey, chatKind: ChatKind, kind: UpdateKind, intermediate: boolean): Promise<SharedSlot | { wait: number }> {
    const local = intermediate
      ? this.#fallback.tryIntermediate(chatId, chatKind, kind)
      : await this.#fallback.acquireFinal(chatId, chatKind, kind);
    if (!local) return { wait: Math.max(1, this.#fallback.delay(chatId, chatKind, kind, true)) };
    return { at: local.at, member: "", windows: [], local };
  }

  /** Hints of chats that went quiet stay behind; past ones say nothing, so memory stays bounded. */
  #forgetPastHints(): void {
    const now = Date.now();
    for (const [key, at] of this.#notBefore) if (at <= now) this.#notBefore.delete(key);
  }

  #key(name: string): string {
    return this.store.key(`pacer:${name}`);
  }

  #hintKey(chatId: PacerKey, kind: UpdateKind, intermediate: boolean): string {
    return `${chatId}:${kind}:${intermediate ? "i" : "f"}`;
  }
}
