/**
 * redis://: the queue in Redis Streams, shared by every instance of the bot.
 *
 * - Updates are partitioned by chat (orderKeyOf → partitionOf) into PARTITIONS streams; one Lua script per update
 *   stores it only if its id was not seen in the last day (SET NX PX) and XADDs it to its partition's stream.
 * - One consumer group; each instance reads (XREADGROUP) only the partitions it holds a lease on (SET NX PX, renewed
 *   by a compare-and-set script), so a chat's updates are handled by one instance at a time, in order (the bot's
 *   sequentialize keeps them in order inside the instance), while different partitions run on different instances.
 * - Instances announce themselves in a sorted set of heartbeats; each holds about its fair share of the partitions
 *   (ceil(partitions / live instances)) and lets extra ones go once their updates in flight are done.
 * - A done update is XACKed and XDELeted. A partition's new holder first XAUTOCLAIMs every pending entry (min idle 0:
 *   the lease, not idle time, says the old holder is gone), so a dead instance's unfinished updates are handled again
 *   once its leases expire (LEASE_MS), and an instance that stops hands its leases back at once.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Update } from "grammy/types";
import { DONE_TTL_MS, MAX_IN_FLIGHT, isUpdate, orderKeyOf, partitionOf, type QueueStats, type UpdateHandler, type UpdateQueue } from "./update-queue.js";
import { createRedisClient, type RedisClient } from "../backends/redis-client.js";

/** Partitions (streams): the most instances that can share the work, and the unit a lease covers. */
export const PARTITIONS = 16;
const GROUP = "bot";
const DEFAULTS = { leaseMs: 15_000, tickMs: 3_000, blockMs: 1_000 };

const ADD_SCRIPT = `if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[2]) then redis.call('XADD', KEYS[2], '*', 'u', ARGV[1]) return 1 end return 0`;
const RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const STEAL_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end return 0`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The consumer names of the queues open in this process (several in tests). */
const OPEN_HERE = new Set<string>();

/**
 * Whether a consumer name (`host-pid-random`) names a process of this host that no longer runs: its pid is gone, or
 * is this process's own (a container restarted: same host name, same pid 1, another random part).
 */
function isDeadHere(name: string, host: string): boolean {
  const match = /^(.*)-(\d+)-[0-9a-f]+$/.exec(name);
  if (!match || match[1] !== host) return false;
  const pid = Number(match[2]);
  if (pid === process.pid) return !OPEN_HERE.has(name);
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

export interface RedisQueueOptions {
  /** Key prefix (the store's namespace and the bot's id: two bots on one Redis keep apart). */
  prefix: string;
  /** A lease not renewed this long is free: the bound on taking over a dead instance's chats (ms). */
  leaseMs?: number;
  /** How often leases are renewed and rebalanced (ms). */
  tickMs?: number;
  /** How long one XREADGROUP waits for new entries (ms): the delay before a newly held partition is read. */
  blockMs?: number;
  connectTimeoutMs?: number;
  /** The host name in this instance's consumer name (default: os.hostname()). */
  host?: string;
  onError?: (err: unknown, what: string) => void;
  /** Partitions gained and lost (logged at debug level). */
  onRebalance?: (held: number[]) => void;
}

type Client = RedisClient;
type Reply = string | number | null | Reply[];
type PartitionState = "claiming" | "reading" | "releasing";

export class RedisQueue implements UpdateQueue {
  readonly kind = "redis" as const;
  readonly #cmd: Client;
  readonly #reader: Client;
  readonly #prefix: string;
  readonly #host: string;
  readonly #me: string;
  readonly #opts: Required<Pick<RedisQueueOptions, "leaseMs" | "tickMs" | "blockMs">> & RedisQueueOptions;
  readonly #held = new Map<number, PartitionState>();
  readonly #inFlight = new Set<string>();
  readonly #inFlightPerPartition = new Array<number>(PARTITIONS).fill(0);
  #handle: UpdateHandler | undefined;
  /** No more reading or taking partitions (stop()); leases are still renewed for the updates in flight. */
  #draining = false;
  #closed = false;
  /** Sleeps of the loops, cut short when there is something to do (a partition claimed, close). */
  readonly #sleepers = new Set<() => void>();
  #loops: Promise<void>[] = [];
  #onSettled: (() => void) | undefined;

  private constructor(cmd: Client, reader: Client, opts: RedisQueueOptions) {
    this.#cmd = cmd;
    this.#reader = reader;
    this.#prefix = opts.prefix;
    this.#opts = { ...DEFAULTS, ...opts };
    this.#host = opts.host ?? hostname();
    this.#me = `${this.#host}-${process.pid}-${randomBytes(4).toString("hex")}`;
    OPEN_HERE.add(this.#me);
  }

  /** Connects (two connections: the blocking reads get their own) and creates the streams' consumer group. */
  static async open(url: string, opts: RedisQueueOptions): Promise<RedisQueue> {
    const make = () => createRedisClient(url, { connectTimeoutMs: opts.connectTimeoutMs ?? 5000, maxBackoffMs: 2_000 });
    const [cmd, reader] = await Promise.all([make(), make()]);
    try {
      await Promise.all([cmd.connect(), reader.connect()]);
      const queue = new RedisQueue(cmd, reader, opts);
      await queue.#createGroups();
      return queue;
    } catch (err) {
      cmd.destroy();
      reader.destroy();
      throw err;
    }
  }

  #stream(p: number): string {
    return `${this.#prefix}:s:${p}`;
  }

  #lease(p: number): string {
    return `${this.#prefix}:lease:${p}`;
  }

  #send(args: string[], client = this.#cmd): Promise<Reply> {
    return client.sendCommand<Reply>(args);
  }

  async #createGroups(): Promise<void> {
    await Promise.all(
      Array.from({ length: PARTITIONS }, (_, p) =>
        this.#send(["XGROUP", "CREATE", this.#stream(p), GROUP, "0", "MKSTREAM"]).catch((err: unknown) => {
          if (!String(err).includes("BUSYGROUP")) throw err;
        }),
      ),
    );
  }

  async add(updates: readonly Update[]): Promise<void> {
    // Sent together (one pipeline); each update is stored atomically with its dedup mark.
    await Promise.all(
      updates.map((u) =>
        this.#send([
          "EVAL",
          ADD_SCRIPT,
          "2",
          `${this.#prefix}:seen:${u.update_id}`,
          this.#stream(partitionOf(orderKeyOf(u), PARTITIONS)),
          JSON.stringify(u),
          String(DONE_TTL_MS),
        ]),
      ),
    );
  }

  start(handle: UpdateHandler): void {
    this.#handle = handle;
    this.#loops = [this.#tickLoop(), this.#readLoop()];
  }

  async #tickLoop(): Promise<void> {
    while (!this.#closed) {
      try {
        await this.#tick();
      } catch (err) {
        this.#opts.onError?.(err, "renewing queue leases");
      }
      await this.#sleep(this.#opts.tickMs);
    }
  }

  async #tick(): Promise<void> {
    const now = Date.now();
    const members = `${this.#prefix}:members`;
    const [, , others] = (await this.#cmd
      .multi()
      .addCommand(["ZADD", members, String(now), this.#me])
      .addCommand(["ZREMRANGEBYSCORE", members, "-inf", String(now - this.#opts.leaseMs)])
      .addCommand(["ZRANGE", members, "0", "-1"])
      .exec()) as unknown as [unknown, unknown, string[]];
    // A predecessor on this host that is gone (killed, restarted) is not waited for.
    const dead = others.filter((m) => m !== this.#me && isDeadHere(m, this.#host));
    if (dead.length > 0) await this.#send(["ZREM", members, ...dead]);
    const live = others.length - dead.length;
    const before = [...this.#held.keys()].sort((a, b) => a - b).join(",");
    // Renew what is held; a lease lost (Redis was away longer than a lease) is no longer read.
    const renewed = await Promise.all(
      [...this.#held.keys()].map(async (p) => [p, await this.#send(["EVAL", RENEW_SCRIPT, "1", this.#lease(p), this.#me, String(this.#opts.leaseMs)])] as const),
    );
    for (const [p, ok] of renewed) if (ok !== 1) this.#held.delete(p);
    if (!this.#draining) {
      const fair = Math.ceil(PARTITIONS / Math.max(1, live));
      const active = [...this.#held].filter(([, s]) => s !== "releasing").map(([p]) => p);
      // More than a fair share: stop reading the extra ones; they are let go once their updates are done.
      for (const p of active.slice(fair)) this.#held.set(p, "releasing");
      let count = Math.min(active.length, fair);
      const offset = Math.floor(Math.random() * PARTITIONS);
      for (let i = 0; i < PARTITIONS && count < fair; i++) {
        const p = (offset + i) % PARTITIONS;
        if (this.#held.has(p)) continue;
        let got = await this.#send(["SET", this.#lease(p), this.#me, "NX", "PX", String(this.#opts.leaseMs)]);
        if (got !== "OK") {
          // Held by a process of this host that is gone: taken over now rather than when its lease expires.
          const holder = await this.#send(["GET", this.#lease(p)]);
          if (typeof holder !== "string" || !isDeadHere(holder, this.#host)) continue;
          got = await this.#send(["EVAL", STEAL_SCRIPT, "1", this.#lease(p), holder, this.#me, String(this.#opts.leaseMs)]);
          if (got !== "OK") continue;
        }
        this.#held.set(p, "claiming");
        count++;
        void this.#claim(p);
      }
    }
    for (const [p, state] of this.#held) if (state === "releasing" && this.#inFlightPerPartition[p] === 0) await this.#release(p);
    const after = [...this.#held.keys()].sort((a, b) => a - b).join(",");
    if (after !== before) this.#opts.onRebalance?.([...this.#held.keys()].sort((a, b) => a - b));
  }

  async #release(p: number): Promise<void> {
    this.#held.delete(p);
    await this.#send(["EVAL", RELEASE_SCRIPT, "1", this.#lease(p), this.#me]);
  }

  /** A partition just taken: first what its previous holder left pending (in order), then new entries. */
  async #claim(p: number): Promise<void> {
    try {
      let cursor = "0-0";
      do {
        const reply = (await this.#send(["XAUTOCLAIM", this.#stream(p), GROUP, this.#me, "0", cursor, "COUNT", "100"])) as [string, Reply[]];
        cursor = reply[0];
        for (const entry of reply[1]) if (Array.isArray(entry)) this.#dispatch(p, entry);
      } while (cursor !== "0-0" && this.#held.get(p) === "claiming");
      if (this.#held.get(p) === "claiming") this.#held.set(p, "reading");
      this.#wakeAll();
    } catch (err) {
      this.#opts.onError?.(err, "claiming a queue partition");
      // Let it go: the next tick (here or elsewhere) takes it again.
      if (this.#held.get(p) === "claiming") await this.#release(p).catch(() => undefined);
    }
  }

  async #readLoop(): Promise<void> {
    while (!this.#draining) {
      const parts = [...this.#held].filter(([, s]) => s === "reading").map(([p]) => p);
      if (parts.length === 0) {
        await this.#sleep(this.#opts.tickMs);
        continue;
      }
      // Back-pressure: what is not read stays in the stream (another instance may take it over meanwhile).
      if (this.#inFlight.size >= MAX_IN_FLIGHT) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      try {
        const reply = (await this.#send(
          ["XREADGROUP", "GROUP", GROUP, this.#me, "COUNT", "100", "BLOCK", String(this.#opts.blockMs), "STREAMS", ...parts.map((p) => this.#stream(p)), ...parts.map(() => ">")],
          this.#reader,
        )) as [string, Reply[]][] | null;
        for (const [key, entries] of reply ?? []) {
          const p = Number(key.slice(key.lastIndexOf(":") + 1));
          for (const entry of entries) if (Array.isArray(entry)) this.#dispatch(p, entry);
        }
      } catch (err) {
        if (this.#draining) break;
        this.#opts.onError?.(err, "reading the update queue");
        // Redis restarted without its data: the streams and the group are made again.
        if (String(err).includes("NOGROUP")) await this.#createGroups().catch(() => undefined);
        await this.#sleep(1000);
      }
    }
  }

  #dispatch(p: number, entry: Reply[]): void {
    const id = String(entry[0]);
    const fields = entry[1] as string[];
    const key = `${p}/${id}`;
    if (this.#draining || !this.#handle || this.#inFlight.has(key)) return;
    let update: unknown;
    try {
      update = JSON.parse(fields[fields.indexOf("u") + 1] ?? "null");
    } catch {
      update = undefined;
    }
    this.#inFlight.add(key);
    this.#inFlightPerPartition[p]!++;
    const handled = isUpdate(update) ? this.#handle(update) : Promise.resolve(true);
    void handled
      .then(
        (done) => (done ? this.#ack(p, id) : undefined),
        (err: unknown) => this.#opts.onError?.(err, "handling an update"),
      )
      .finally(() => {
        this.#inFlight.delete(key);
        this.#inFlightPerPartition[p]!--;
        if (this.#inFlight.size === 0) this.#onSettled?.();
      });
  }

  /** XACK + XDEL, retried while Redis is away: an entry left pending would be handled again by the next holder. */
  async #ack(p: number, id: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#cmd.multi().addCommand(["XACK", this.#stream(p), GROUP, id]).addCommand(["XDEL", this.#stream(p), id]).exec();
        return;
      } catch (err) {
        if (this.#closed || attempt >= 60) {
          this.#opts.onError?.(err, "marking an update done");
          return;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  #wakeAll(): void {
    for (const wake of [...this.#sleepers]) wake();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }

  stop(): Promise<void> {
    this.#draining = true;
    return Promise.resolve();
  }

  async stats(): Promise<QueueStats> {
    const now = Date.now();
    const replies = await Promise.all(
      Array.from({ length: PARTITIONS }, async (_, p) => {
        const [len, first] = await Promise.all([this.#send(["XLEN", this.#stream(p)]), this.#send(["XRANGE", this.#stream(p), "-", "+", "COUNT", "1"])]);
        const firstId = Array.isArray(first) && Array.isArray(first[0]) ? String(first[0][0]) : undefined;
        return { len: Number(len), at: firstId ? Number(firstId.split("-")[0]) : now };
      }),
    );
    return { depth: replies.reduce((s, r) => s + r.len, 0), oldestAgeMs: Math.max(0, now - Math.min(now, ...replies.map((r) => r.at))) };
  }

  async ping(): Promise<void> {
    await this.#send(["PING"]);
  }

  /** Drops the connections without handing anything back, as a killed process would (failover tests). */
  kill(): void {
    OPEN_HERE.delete(this.#me);
    this.#draining = true;
    this.#closed = true;
    this.#wakeAll();
    this.#cmd.destroy();
    this.#reader.destroy();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    OPEN_HERE.delete(this.#me);
    this.#draining = true;
    // The last acks are sent before the partitions are handed back (an entry left pending would run again there);
    // a handler stuck past the shutdown is not awaited.
    if (this.#inFlight.size > 0) {
      await Promise.race([new Promise<void>((r) => (this.#onSettled = r)), new Promise((r) => setTimeout(r, 5000).unref())]);
    }
    this.#closed = true;
    this.#wakeAll();
    // Hand the partitions back at once: their pending entries (updates cut short) are claimed by the next holder.
    await Promise.all([...this.#held.keys()].map((p) => this.#release(p).catch(() => undefined)));
    await this.#send(["ZREM", `${this.#prefix}:members`, this.#me]).catch(() => undefined);
    this.#reader.destroy();
    await Promise.all(this.#loops);
    await Promise.race([this.#cmd.close(), new Promise((r) => setTimeout(r, 2000))]).catch(() => undefined);
    if (this.#cmd.isOpen) this.#cmd.destroy();
  }
}
