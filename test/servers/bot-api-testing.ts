// Shared set-up for the Bot API test server's own tests: a server with a private chat and a supergroup, grammY's Api
// pointed at it over real HTTP, and a helper that expects a call to fail with Telegram's error.
import { Api, GrammyError } from "grammy";
import { startBotApiServer, type BotApiServer, type BotApiServerOptions, type FakeUser } from "./bot-api.js";

export const alice: FakeUser = { id: 1001, first_name: "Alice", username: "alice_user", language_code: "en" };
export const bob: FakeUser = { id: 1002, first_name: "Bob", language_code: "en" };
export const GROUP = -100500;

export interface TestBed {
  server: BotApiServer;
  api: Api;
}

/** A server with Alice's and Bob's private chats and a supergroup (Alice and Bob members), and an Api client for it. */
export async function startTestBed(opts: BotApiServerOptions = {}): Promise<TestBed> {
  const server = await startBotApiServer(opts);
  server.addChat({ id: alice.id, type: "private", first_name: alice.first_name, username: alice.username });
  server.addUser(alice);
  server.addChat({ id: bob.id, type: "private", first_name: bob.first_name });
  server.addUser(bob);
  server.addChat({ id: GROUP, type: "supergroup", title: "Test group" });
  server.setChatMember(GROUP, alice, "member");
  server.setChatMember(GROUP, bob, "member");
  return { server, api: new Api(server.token, { apiRoot: server.apiRoot }) };
}

/** The GrammyError a call fails with (the test fails when it succeeds). */
export async function failure(promise: Promise<unknown>): Promise<GrammyError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof GrammyError) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

/**
 * A minimal OGG/Opus stream of `seconds` (headers and one audio page whose granule position gives the length), as
 * Telegram's sniffing sees one; `codec: "Vorbis"` makes an OGG file that is not Opus.
 */
export function oggFile(seconds: number, codec: "Opus" | "Vorbis" = "Opus"): Uint8Array {
  const page = (granule: bigint, body: Buffer) => {
    const header = Buffer.alloc(27);
    header.write("OggS", 0, "ascii");
    header.writeBigInt64LE(granule, 6);
    header[26] = 1;
    return Buffer.concat([header, Buffer.from([body.length]), body]);
  };
  const head = Buffer.alloc(19);
  head.write(codec === "Opus" ? "OpusHead" : "\x01vorbis\0", 0, "binary");
  head[8] = 1;
  head[9] = 1;
  head.writeUInt16LE(312, 10);
  head.writeUInt32LE(48_000, 12);
  const tags = Buffer.from("OpusTags\0\0\0\0\0\0\0\0", "binary");
  const audio = Buffer.alloc(100, 0x55);
  return new Uint8Array(Buffer.concat([page(0n, head), page(0n, tags), page(BigInt(312 + seconds * 48_000), audio)]));
}
