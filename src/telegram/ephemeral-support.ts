/**
 * Whether the Bot API server takes ephemeral messages (Bot API 10.3 `ephemeral_message_parameters`: a message in a
 * group shown to one member only). They are a nicety: when the server refuses them the reply goes out as a normal
 * message instead, and the refusal is remembered for a while (an hour by default, as for drafts) so later replies do
 * not try again first. What counts:
 * - 404 (the server does not know the method) or a 400 that names ephemeral messages: the server's refusal,
 *   remembered for every chat;
 * - any other 400 (the receiver is not a member, the question was deleted): this message only;
 * - a message that comes back without an ephemeral_message_id: the server ignored the parameter (it is older), so
 *   everyone saw it; remembered like a refusal.
 */
import { GrammyError } from "grammy";

/** Refusals that say the server does not do ephemeral messages. */
const SERVER_REFUSAL = /ephemeral/i;

export interface EphemeralSupportOptions {
  /** How long a refusal is remembered before ephemeral messages are tried again (ms). */
  retryAfterMs?: number;
  /** Epoch ms (tests move it instead of waiting an hour). */
  now?: () => number;
}

/** What an ephemeral send's failure means: the server refuses them ("server"), or only this one failed ("message"). */
export type EphemeralRefusal = "server" | "message";

export class EphemeralSupport {
  private refusedUntil = 0;
  private readonly retryAfterMs: number;
  private readonly now: () => number;

  constructor(opts: EphemeralSupportOptions = {}) {
    this.retryAfterMs = opts.retryAfterMs ?? 60 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** May a reply be sent as an ephemeral message now? */
  usable(): boolean {
    return this.now() >= this.refusedUntil;
  }

  /**
   * An ephemeral send failed with `err`: says whether to fall back to a normal message (and remembers a refusal of
   * the server), or undefined for a failure that is not a refusal (the caller treats it like any failed send).
   */
  failed(err: unknown): EphemeralRefusal | undefined {
    if (!(err instanceof GrammyError)) return undefined;
    if (err.error_code === 404 || (err.error_code === 400 && SERVER_REFUSAL.test(err.description))) {
      this.refusedUntil = this.now() + this.retryAfterMs;
      return "server";
    }
    return err.error_code === 400 ? "message" : undefined;
  }

  /** The server sent an ephemeral request as a normal message (it does not know the parameter). */
  ignored(): void {
    this.refusedUntil = this.now() + this.retryAfterMs;
  }
}
