import { GrammyError } from "grammy";
import { describe, expect, it } from "vitest";
import { EphemeralSupport } from "./ephemeral-support.js";

const error = (code: number, description: string) =>
  new GrammyError(`Call to 'sendMessage' failed! (${code}: ${description})`, { ok: false, error_code: code, description }, "sendMessage", {});

describe("EphemeralSupport", () => {
  it("remembers the server's refusal for an hour, and only that", () => {
    let now = 0;
    const support = new EphemeralSupport({ now: () => now });
    expect(support.usable()).toBe(true);
    // This message only: the receiver left, the question was deleted.
    expect(support.failed(error(400, "Bad Request: USER_NOT_PARTICIPANT"))).toBe("message");
    expect(support.failed(error(400, "Bad Request: message to be replied not found"))).toBe("message");
    expect(support.usable()).toBe(true);
    // Not a refusal at all: the caller treats it like any failed send.
    expect(support.failed(error(500, "Internal Server Error"))).toBeUndefined();
    expect(support.failed(new Error("socket hang up"))).toBeUndefined();
    expect(support.usable()).toBe(true);

    expect(support.failed(error(400, "Bad Request: ephemeral messages are not supported in the chat"))).toBe("server");
    expect(support.usable()).toBe(false);
    now += 59 * 60_000;
    expect(support.usable()).toBe(false);
    now += 2 * 60_000;
    expect(support.usable()).toBe(true);

    expect(support.failed(error(404, "Not Found"))).toBe("server");
    expect(support.usable()).toBe(false);
  });

  it("remembers a server that ignores the parameter (the message went to everyone)", () => {
    let now = 0;
    const support = new EphemeralSupport({ now: () => now, retryAfterMs: 1000 });
    support.ignored();
    expect(support.usable()).toBe(false);
    now = 1000;
    expect(support.usable()).toBe(true);
  });
});
