/**
 * How long one test-server response lives: until it is answered, until the client closes the connection, or until
 * the server closes. Every wait inside a handler (scripted delays, stalls, gates) ends at the first of these, so a
 * stopped client never leaves a handler sleeping, and the moment the client went away is known to the millisecond.
 */
import type { ServerResponse } from "node:http";

/**
 * A point a scripted response waits at until the test releases it: "stall until released". `reached` tells the test
 * that everything before the gate is on the wire, so it can stop the client at a known place, deterministically.
 */
export class StreamGate {
  /** Resolves when a response arrives at the gate (what comes before it has been written and flushed). */
  readonly reached: Promise<void>;
  /** Resolves when release() is called. */
  readonly released: Promise<void>;
  private markReached!: () => void;
  private markReleased!: () => void;
  private reachedFlag = false;
  private releasedFlag = false;

  constructor() {
    this.reached = new Promise((resolve) => (this.markReached = resolve));
    this.released = new Promise((resolve) => (this.markReleased = resolve));
  }

  /** True once a response has arrived at the gate. */
  get isReached(): boolean {
    return this.reachedFlag;
  }

  /** True once release() was called. */
  get isReleased(): boolean {
    return this.releasedFlag;
  }

  /** Lets every response waiting at (or later arriving at) this gate go on. */
  release(): void {
    this.releasedFlag = true;
    this.markReleased();
  }

  /** @internal Called by the server when a response arrives at the gate. */
  arrive(): void {
    this.reachedFlag = true;
    this.markReached();
  }
}

/** Watches one response; see the file comment. */
export class ResponseLife {
  /** Resolves when the response's connection closes (for any reason) or the server stops. */
  readonly over: Promise<void>;
  /** performance.now() when the connection closed, if it has. */
  closedAt: number | undefined;
  private overFlag = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly stop: AbortSignal,
  ) {
    this.over = new Promise((resolve) => {
      const end = () => {
        this.overFlag = true;
        stop.removeEventListener("abort", end);
        resolve();
      };
      res.once("close", () => {
        this.closedAt = performance.now();
        end();
      });
      if (stop.aborted) end();
      else stop.addEventListener("abort", end, { once: true });
    });
  }

  /** True when nothing more can or should be written: the connection closed or the server is stopping. */
  get gone(): boolean {
    return this.overFlag || this.res.destroyed || this.stop.aborted;
  }

  /** Sleeps `ms`, cut short when the response is over. */
  async sleep(ms: number | undefined): Promise<void> {
    if (!ms || ms <= 0 || this.gone) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), this.over]);
    clearTimeout(timer);
  }

  /** Waits at a gate until it is released or the response is over. */
  async hold(gate: StreamGate): Promise<void> {
    gate.arrive();
    if (gate.isReleased || this.gone) return;
    await Promise.race([gate.released, this.over]);
  }

  /** Resolves when what was written so far has been handed to the socket (or at once when the response is over). */
  flushed(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return Promise.race([new Promise<void>((resolve) => this.res.write("", () => resolve())), this.over]);
  }
}

/**
 * What a test may script for a non-chat endpoint: a failure, a delay before the normal answer, or a gate the request
 * waits at before the normal answer.
 */
export type EndpointScript =
  | { error: { status: number; body?: object; headers?: Record<string, string> } }
  | { delayMs: number }
  | { hold: StreamGate };
