// Small node:http helpers shared by the fake Bot API and the fake OpenAI server (no framework on purpose: the servers
// must behave byte-for-byte like the real ones, and a framework would hide what is on the wire).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export class BodyTooLargeError extends Error {}

/** Reads the whole request body; rejects with BodyTooLargeError past maxBytes. */
export function readBody(req: IncomingMessage, maxBytes = 64 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLargeError(`request body over ${maxBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** Extracts `boundary` from a multipart content-type header. */
export function multipartBoundary(contentType: string): string | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/**
 * Parses multipart/form-data. Written by hand because grammY writes compact part headers
 * (`content-disposition:form-data;name="x";filename=photo.jpg`, unquoted filename) that stricter parsers refuse.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new Error("multipart boundary not found");
  for (;;) {
    pos += delimiter.length;
    // "--" right after a delimiter ends the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), pos);
    if (next < 0) throw new Error("multipart body is truncated");
    const part = body.subarray(pos, next);
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd < 0) throw new Error("multipart part without headers");
    const headerText = part.subarray(0, headerEnd).toString("utf8");
    const data = Buffer.from(part.subarray(headerEnd + 4));
    let name: string | undefined;
    let filename: string | undefined;
    let contentType: string | undefined;
    for (const line of headerText.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === "content-disposition") {
        name = paramOf(value, "name");
        filename = paramOf(value, "filename");
      } else if (key === "content-type") {
        contentType = value;
      }
    }
    if (name === undefined) throw new Error("multipart part without a name");
    parts.push({ name, filename, contentType, data });
    pos = next + 2;
  }
  return parts;
}

function paramOf(header: string, key: string): string | undefined {
  for (const piece of header.split(";")) {
    const eq = piece.indexOf("=");
    if (eq < 0) continue;
    if (piece.slice(0, eq).trim().toLowerCase() !== key) continue;
    const raw = piece.slice(eq + 1).trim();
    return raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw;
  }
  return undefined;
}

/** Creates a node:http server on 127.0.0.1 with a random port and resolves its origin (`http://127.0.0.1:PORT`). */
export async function listenOnLoopback(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  // Long polls and stalled streams must not be cut by node's defaults.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

/**
 * Starts a fake server object on loopback: `create` gets the listening server and its origin; requests arriving
 * before the object exists (none should) get a 503.
 */
export async function startFake<T extends { handle(req: IncomingMessage, res: ServerResponse): void }>(
  create: (server: Server, origin: string) => T,
): Promise<T> {
  const ref: { instance?: T } = {};
  const { server, origin } = await listenOnLoopback((req, res) => {
    if (!ref.instance) {
      res.statusCode = 503;
      res.end();
      return;
    }
    ref.instance.handle(req, res);
  });
  ref.instance = create(server, origin);
  return ref.instance;
}

/** Stops listening and drops every open connection, so close() never waits for keep-alive sockets. */
export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
