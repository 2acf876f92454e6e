/**
 * "Told once" marks: the bot says some things (you may not use this bot, you are over a limit) once and then stays
 * quiet until the mark expires. Marks live in the store, so they hold across restarts and instances, and they
 * always expire, so the store does not fill up with them.
 */
import type Keyv from "keyv";
import { KeyedQueue } from "../util/keyed-queue.js";

export class ToldOnce {
  readonly #keyv: Keyv;
  readonly #queue = new KeyedQueue();

  constructor(keyv: Keyv) {
    this.#keyv = keyv;
  }

  /**
   * True the first time `key` is asked about within `ttlMs`, false afterwards. Check and mark are serialised per key
   * in this process; two instances asking at the very same moment could both say it once (keyv has no atomic
   * set-if-absent: Redis SET NX or an INSERT … ON CONFLICT DO NOTHING would close that gap).
   */
  first(key: string, ttlMs: number): Promise<boolean> {
    return this.#queue.run(key, async () => {
      if (await this.#keyv.get(key)) return false;
      await this.#keyv.set(key, true, Math.max(1, Math.ceil(ttlMs)));
      return true;
    });
  }
}
