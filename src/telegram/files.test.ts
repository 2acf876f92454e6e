import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Api } from "grammy";
import type { PhotoSize } from "grammy/types";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeJpeg, seededBytes } from "../../test/fixtures/images.js";
import { startBotApiServer, type BotApiServer } from "../../test/servers/bot-api.js";
import { downloadTelegramFile, pickPhotoSize, TelegramFileError } from "./files.js";

const size = (width: number, height: number, file_size?: number): PhotoSize => ({
  file_id: `id-${width}x${height}`,
  file_unique_id: `u-${width}x${height}`,
  width,
  height,
  ...(file_size === undefined ? {} : { file_size }),
});

describe("pickPhotoSize", () => {
  const telegramSizes = [size(90, 67, 1_500), size(320, 240, 20_000), size(800, 600, 90_000), size(2560, 1920, 600_000)];

  it("takes the largest size within 2048 px and 10 MB by default", () => {
    expect(pickPhotoSize(telegramSizes)).toBe(telegramSizes[2]);
  });

  it("does not depend on the order of the sizes", () => {
    expect(pickPhotoSize([...telegramSizes].reverse())).toBe(telegramSizes[2]);
  });

  it("honours maxSide and maxBytes", () => {
    expect(pickPhotoSize(telegramSizes, { maxSide: 4000 })).toBe(telegramSizes[3]);
    expect(pickPhotoSize(telegramSizes, { maxSide: 4000, maxBytes: 100_000 })).toBe(telegramSizes[2]);
    expect(pickPhotoSize(telegramSizes, { maxSide: 320 })).toBe(telegramSizes[1]);
  });

  it("falls back to the smallest size when none fits", () => {
    expect(pickPhotoSize(telegramSizes, { maxSide: 50 })).toBe(telegramSizes[0]);
    expect(pickPhotoSize(telegramSizes, { maxBytes: 100 })).toBe(telegramSizes[0]);
  });

  it("keeps sizes whose file_size is unknown", () => {
    const sizes = [size(100, 100, 1_000), size(1280, 960)];
    expect(pickPhotoSize(sizes)).toBe(sizes[1]);
  });

  it("refuses an empty list", () => {
    expect(() => pickPhotoSize([])).toThrow(RangeError);
  });
});

async function downloadError(promise: Promise<unknown>): Promise<TelegramFileError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TelegramFileError);
  return err as TelegramFileError;
}

function expectNoSecret(err: Error, token: string): void {
  const everything = `${err.message}\n${String(err)}\n${err.stack ?? ""}\n${JSON.stringify(err)}`;
  expect(everything).not.toContain(token);
  expect(everything).not.toContain("/file/bot");
  expect(err.cause).toBeUndefined();
}

describe("downloadTelegramFile with the Bot API test server", () => {
  let telegram: BotApiServer;
  let api: Api;

  beforeAll(async () => {
    telegram = await startBotApiServer();
    api = new Api(telegram.token, { apiRoot: telegram.apiRoot });
  });
  afterAll(async () => {
    await telegram.close();
  });

  it("downloads the bytes of a file", async () => {
    const photo = makeJpeg(640, 480);
    const { file_id } = telegram.addFile(photo, { mime: "image/jpeg", filePath: "photos/file_1.jpg" });
    const bytes = await downloadTelegramFile(api, file_id, { apiRoot: telegram.apiRoot, token: telegram.token, maxBytes: 1_000_000 });
    expect(Buffer.from(bytes).equals(Buffer.from(photo))).toBe(true);
  });

  it("refuses a file whose reported size exceeds maxBytes before downloading it", async () => {
    const { file_id } = telegram.addFile(seededBytes(5_000, 1));
    const err = await downloadError(
      downloadTelegramFile(api, file_id, { apiRoot: telegram.apiRoot, token: telegram.token, maxBytes: 4_999 }),
    );
    expect(err.reason).toBe("too_big");
    expectNoSecret(err, telegram.token);
  });

  it("maps the Bot API's 'file is too big' to too_big", async () => {
    const { file_id } = telegram.addFile(new Uint8Array(20 * 1024 * 1024 + 1));
    const err = await downloadError(
      downloadTelegramFile(api, file_id, { apiRoot: telegram.apiRoot, token: telegram.token, maxBytes: 100 * 1024 * 1024 }),
    );
    expect(err.reason).toBe("too_big");
  });

  it("maps an unknown file_id to not_found", async () => {
    const err = await downloadError(
      downloadTelegramFile(api, "AgACAgNoSuchFile", { apiRoot: telegram.apiRoot, token: telegram.token, maxBytes: 1_000 }),
    );
    expect(err.reason).toBe("not_found");
    expectNoSecret(err, telegram.token);
  });

  it("does not start when already aborted", async () => {
    const { file_id } = telegram.addFile(new Uint8Array([1, 2, 3]));
    const err = await downloadError(
      downloadTelegramFile(api, file_id, {
        apiRoot: telegram.apiRoot,
        token: telegram.token,
        maxBytes: 1_000,
        signal: AbortSignal.abort(),
      }),
    );
    expect(err.reason).toBe("aborted");
  });
});

/**
 * A Bot API stand-in whose file downloads misbehave on purpose: wrong sizes, no Content-Length, errors, stalls,
 * dropped connections.
 */
describe("downloadTelegramFile against a misbehaving file server", () => {
  const token = "987654:SECRET-token-value";
  type FileBehaviour = (req: IncomingMessage, res: ServerResponse) => void;
  const files = new Map<string, { reportedSize?: number; serve: FileBehaviour }>();
  let server: Server;
  let apiRoot: string;
  let api: Api;
  const downloadsRequested: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (url.pathname === `/bot${token}/getFile`) {
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () => {
          const fileId = (JSON.parse(body || "{}") as { file_id?: string }).file_id ?? "";
          const file = files.get(fileId);
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              ok: true,
              result: {
                file_id: fileId,
                file_unique_id: `u${fileId}`,
                ...(file?.reportedSize === undefined ? {} : { file_size: file.reportedSize }),
                file_path: `photos/${fileId}.jpg`,
              },
            }),
          );
        });
        return;
      }
      const match = new RegExp(`^/file/bot${token}/photos/(.+)\\.jpg$`).exec(url.pathname);
      const file = match ? files.get(match[1]!) : undefined;
      if (match) downloadsRequested.push(match[1]!);
      if (!file) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: false, error_code: 404, description: "Not Found" }));
        return;
      }
      file.serve(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    api = new Api(token, { apiRoot: apiRoot.replace(/\/$/, "") });
  });
  afterEach(() => files.clear());
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const download = (fileId: string, maxBytes: number, signal?: AbortSignal) =>
    downloadTelegramFile(api, fileId, { apiRoot, token, maxBytes, ...(signal === undefined ? {} : { signal }) });

  it("joins an apiRoot with a trailing slash and reads a chunked body without Content-Length", async () => {
    const bytes = seededBytes(3_000, 3);
    files.set("chunked", {
      serve: (_req, res) => {
        res.writeHead(200, { "content-type": "image/jpeg" });
        res.write(bytes.subarray(0, 1_000));
        setTimeout(() => res.end(bytes.subarray(1_000)), 10);
      },
    });
    expect(Buffer.from(await download("chunked", 3_000)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("stops reading once the body passes maxBytes, whatever getFile said", async () => {
    let closedEarly = false;
    files.set("liar", {
      reportedSize: 10,
      serve: (req, res) => {
        res.writeHead(200, { "content-type": "image/jpeg" });
        res.on("close", () => (closedEarly = !res.writableFinished));
        // 64 KiB chunks until the client goes away, or 10 MiB at most.
        let sent = 0;
        const pump = () => {
          while (sent < 10 * 1024 * 1024 && !res.destroyed) {
            sent += 65_536;
            if (!res.write(Buffer.alloc(65_536, 7))) return void res.once("drain", pump);
          }
          res.end();
        };
        pump();
      },
    });
    const err = await downloadError(download("liar", 100_000));
    expect(err.reason).toBe("too_big");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closedEarly).toBe(true);
    expectNoSecret(err, token);
  });

  it("refuses a body whose Content-Length exceeds maxBytes", async () => {
    files.set("long", {
      serve: (_req, res) => {
        res.writeHead(200, { "content-length": 2_000 });
        res.end(Buffer.alloc(2_000));
      },
    });
    expect((await downloadError(download("long", 1_999))).reason).toBe("too_big");
  });

  it("maps a 404 download to not_found and a 500 to download_failed", async () => {
    files.set("gone", {
      serve: (_req, res) => {
        res.writeHead(404);
        res.end();
      },
    });
    files.set("broken", {
      serve: (_req, res) => {
        res.writeHead(500);
        res.end("internal error");
      },
    });
    expect((await downloadError(download("gone", 1_000))).reason).toBe("not_found");
    const broken = await downloadError(download("broken", 1_000));
    expect(broken.reason).toBe("download_failed");
    expectNoSecret(broken, token);
  });

  it("maps a dropped connection to download_failed without quoting the URL", async () => {
    files.set("drop", { serve: (req) => req.socket.destroy() });
    const err = await downloadError(download("drop", 1_000));
    expect(err.reason).toBe("download_failed");
    expectNoSecret(err, token);
  });

  it("maps a connection cut in the middle of the body to download_failed", async () => {
    files.set("cut", {
      serve: (req, res) => {
        res.writeHead(200, { "content-length": 1_000 });
        res.write(Buffer.alloc(100));
        setTimeout(() => req.socket.destroy(), 10);
      },
    });
    const err = await downloadError(download("cut", 10_000));
    expect(err.reason).toBe("download_failed");
    expectNoSecret(err, token);
  });

  it("stops a stalled download when the caller aborts", async () => {
    files.set("stall", {
      serve: (_req, res) => {
        res.writeHead(200, { "content-type": "image/jpeg" });
        res.write(Buffer.alloc(100));
        // never ends
      },
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await downloadError(download("stall", 10_000, controller.signal));
    expect(err.reason).toBe("aborted");
    expect(downloadsRequested).toContain("stall");
  });
});
