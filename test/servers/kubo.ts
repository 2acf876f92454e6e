/**
 * A Kubo-RPC-compatible test server (the part of `/api/v0` the bot uses).
 *
 * CIDs are computed with ipfs-unixfs-importer using Kubo's own defaults, so for any bytes the CID this server answers
 * is the CID a real Kubo (0.38, default config) would give: CIDv0 → 256 KiB fixed-size chunks, balanced DAG with at
 * most 174 links per node, dag-pb leaves, a single-chunk file reduced to one node; `cid-version=1` → raw leaves unless
 * `raw-leaves` says otherwise. Blocks are kept in a MemoryBlockstore and `cat` walks the DAG, so `cat` really
 * returns what `add` stored.
 *
 * The node is "offline": a CID whose blocks it does not hold is an error at once (a real node would search the network).
 *
 * Modes (switchable at any time through `server.mode`):
 * - `up`: normal.
 * - `down`: Kubo stopped behind a reverse proxy. By default every request gets `503 Service Unavailable` with the
 *   proxy's HTML page (`downStyle: 'http-503'`); with `downStyle: 'reset'` the TCP connection is dropped without an
 *   answer, which is what a client sees when the daemon itself is gone (ECONNRESET / "fetch failed").
 * - `slow`: every RPC waits `server.slowMs` before it is handled.
 */
import { Buffer } from "node:buffer";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { MemoryBlockstore } from "blockstore-core";
import { importer, type ImporterOptions } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { CID } from "multiformats/cid";

export type KuboMode = "up" | "down" | "slow";
export type KuboDownStyle = "http-503" | "reset";

export interface KuboServerOptions {
  mode?: KuboMode;
  /** Delay of every RPC in `slow` mode. Default 2000 ms. */
  slowMs?: number;
  downStyle?: KuboDownStyle;
  /** Largest accepted request body. Default 64 MiB. */
  maxBodyBytes?: number;
}

export interface KuboRequest {
  method: string;
  /** e.g. `/api/v0/add` */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  /** The mode the server was in when the request arrived. */
  mode: KuboMode;
}

export interface KuboServer {
  /** `http://127.0.0.1:PORT` (kubo-rpc-client appends `/api/v0`). */
  readonly apiUrl: string;
  mode: KuboMode;
  slowMs: number;
  downStyle: KuboDownStyle;
  /** Recursively pinned roots, as the CID strings Kubo printed for them. */
  readonly pins: Set<string>;
  readonly requests: KuboRequest[];
  readonly blockstore: MemoryBlockstore;
  /** Whether every block of the DAG under `cid` is stored. */
  hasDag(cid: string): Promise<boolean>;
  /** The file bytes under `cid` (like `cat`). */
  cat(cid: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface KuboImportOptions {
  cidVersion?: 0 | 1;
  /** Default: false for CIDv0, true for CIDv1 (as Kubo). */
  rawLeaves?: boolean;
  /** Bytes per chunk. Default 262144. */
  chunkSize?: number;
}

const DAG_PB = 0x70;
const RAW = 0x55;
const SHA2_256 = 0x12;
const KUBO_VERSION = "0.38.0";

/** Importer options that reproduce `ipfs add` with Kubo's default settings. */
export function kuboImporterOptions(opts: KuboImportOptions = {}): ImporterOptions {
  const cidVersion = opts.cidVersion ?? 0;
  return {
    cidVersion,
    rawLeaves: opts.rawLeaves ?? cidVersion === 1,
    reduceSingleLeafToSelf: true,
    leafType: "file",
    chunker: fixedSize({ chunkSize: opts.chunkSize ?? 262_144 }),
    layout: balanced({ maxChildrenPerNode: 174 }),
    wrapWithDirectory: false,
  };
}

export interface KuboImportResult {
  cid: CID;
  /** Cumulative DAG size, Kubo's `Size`. */
  size: bigint;
}

/** Imports bytes like `ipfs add` (default settings) into `blockstore`. */
export async function kuboImport(
  bytes: Uint8Array,
  blockstore: Pick<MemoryBlockstore, "put"> = new MemoryBlockstore(),
  opts: KuboImportOptions = {},
): Promise<KuboImportResult> {
  let last: KuboImportResult | undefined;
  for await (const entry of importer([{ content: bytes }], blockstore, kuboImporterOptions(opts))) {
    last = { cid: entry.cid, size: entry.size };
  }
  if (last === undefined) throw new Error("importer produced no entry");
  return last;
}

/** The CID Kubo would print for `bytes` (CIDv0 unless asked otherwise). */
export async function kuboCid(bytes: Uint8Array, opts: KuboImportOptions = {}): Promise<string> {
  return (await kuboImport(bytes, undefined, opts)).cid.toString();
}

export async function startKuboServer(opts: KuboServerOptions = {}): Promise<KuboServer> {
  const blockstore = new MemoryBlockstore();
  const pins = new Set<string>();
  const requests: KuboRequest[] = [];
  const sockets = new Set<Socket>();
  const waits = new Set<() => void>();
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024 * 1024;

  const state = {
    mode: opts.mode ?? "up",
    slowMs: opts.slowMs ?? 2000,
    downStyle: opts.downStyle ?? "http-503",
  };

  const getBlock = async (cid: CID): Promise<Uint8Array | undefined> => {
    if (!(await blockstore.has(cid))) return undefined;
    const chunks: Uint8Array[] = [];
    for await (const chunk of blockstore.get(cid)) chunks.push(chunk);
    return Buffer.concat(chunks);
  };

  /** Walks the UnixFS file DAG under `cid`; throws KuboError when a block is missing. */
  const readFile = async (cid: CID): Promise<Uint8Array> => {
    const block = await getBlock(cid);
    if (block === undefined) throw notFoundLocally(cid);
    if (cid.code === RAW) return block;
    if (cid.code !== DAG_PB) throw new KuboError(`unsupported codec 0x${cid.code.toString(16)} for ${cid.toString()}`);
    const node = decodePBNode(block);
    const unixfs = node.data === undefined ? undefined : decodeUnixFsData(node.data);
    if (unixfs === undefined || (unixfs.type !== UNIXFS_FILE && unixfs.type !== UNIXFS_RAW)) {
      throw new KuboError("this dag node is a directory");
    }
    const parts: Uint8Array[] = [];
    if (unixfs.data !== undefined) parts.push(unixfs.data);
    for (const link of node.links) parts.push(await readFile(link.cid));
    return Buffer.concat(parts);
  };

  const hasDag = async (cid: CID): Promise<boolean> => {
    try {
      await readFile(cid);
      return true;
    } catch (err) {
      if (err instanceof KuboError) return false;
      throw err;
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      req.resume();
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const mode = state.mode;
    requests.push({ method: req.method ?? "", path: url.pathname, query: url.searchParams, headers: req.headers, mode });

    if (mode === "down") {
      if (state.downStyle === "reset") {
        req.socket.destroy();
        return;
      }
      req.resume();
      const page =
        "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n" +
        "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
      res.writeHead(503, { "Content-Type": "text/html", "Content-Length": Buffer.byteLength(page), Connection: "close" });
      res.end(page);
      return;
    }
    if (mode === "slow") {
      const gone = await delay(state.slowMs, req, waits);
      if (gone) return;
    }

    if (!url.pathname.startsWith("/api/v0/")) {
      req.resume();
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("404 page not found\n");
      return;
    }
    // Kubo refuses GET on the RPC API (CSRF protection since 0.5).
    if (req.method !== "POST") {
      req.resume();
      res.writeHead(405, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("405 - Method Not Allowed\n");
      return;
    }

    const command = url.pathname.slice("/api/v0/".length);
    const q = url.searchParams;
    switch (command) {
      case "add":
        return handleAdd(req, res, q);
      case "cat": {
        req.resume();
        const cid = parseCidArg(q, "ipfs-path");
        let bytes = await readFile(cid);
        const offset = optionalInt(q, "offset") ?? 0;
        const length = optionalInt(q, "length");
        if (offset < 0) throw new KuboError(`cannot specify negative offset`);
        bytes = bytes.subarray(offset, length === undefined ? undefined : offset + length);
        res.writeHead(200, {
          "Content-Type": "text/plain",
          "X-Stream-Output": "1",
          "X-Content-Length": String(bytes.length),
          "Trailer": "X-Stream-Error",
        });
        res.end(bytes);
        return;
      }
      case "pin/add": {
        req.resume();
        const args = q.getAll("arg");
        if (args.length === 0) throw new KuboClientError('argument "ipfs-path" is required');
        const added: string[] = [];
        for (const arg of args) {
          const cid = parseCid(arg);
          if (!(await hasDag(cid))) throw notFoundLocally(cid, "pin: ");
          pins.add(cid.toString());
          added.push(cid.toString());
        }
        sendJson(res, { Pins: added });
        return;
      }
      case "pin/ls": {
        req.resume();
        const args = q.getAll("arg");
        const keys: Record<string, { Type: string; Name: string }> = {};
        if (args.length === 0) {
          for (const pin of pins) keys[pin] = { Type: "recursive", Name: "" };
        }
        for (const arg of args) {
          const cid = parseCid(arg);
          if (!pins.has(cid.toString())) throw new KuboError(`path '${arg}' is not pinned`);
          keys[cid.toString()] = { Type: "recursive", Name: "" };
        }
        sendJson(res, { Keys: keys });
        return;
      }
      case "version":
        req.resume();
        sendJson(res, { Version: KUBO_VERSION, Commit: "", Repo: "17", System: "amd64/linux", Golang: "go1.25.1" });
        return;
      case "id":
        req.resume();
        sendJson(res, {
          ID: "12D3KooWTestServerTestServerTestServerTestServer",
          PublicKey: "",
          Addresses: [],
          AgentVersion: `kubo/${KUBO_VERSION}/`,
          Protocols: [],
        });
        return;
      default:
        req.resume();
        res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
        res.end("404 page not found\n");
        return;
    }
  };

  const handleAdd = async (req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> => {
    const cidVersionArg = q.get("cid-version");
    const cidVersion = cidVersionArg === null ? 0 : Number(cidVersionArg);
    if (cidVersion !== 0 && cidVersion !== 1) {
      req.resume();
      throw new KuboError(`unknown CID version: ${cidVersionArg}`);
    }
    const rawLeavesArg = optionalBool(q, "raw-leaves");
    const pin = optionalBool(q, "pin") ?? true;
    const onlyHash = optionalBool(q, "only-hash") ?? false;
    if (optionalBool(q, "trickle") === true) throw new KuboError("the test server does not build trickle DAGs");
    const hash = q.get("hash") ?? "sha2-256";
    if (hash !== "sha2-256") throw new KuboError(`the test server supports only sha2-256, not ${hash}`);
    if (cidVersion === 0 && rawLeavesArg === true) {
      // Kubo upgrades to CIDv1 when raw leaves are asked for with CIDv0.
      throw new KuboError("the test server does not support raw-leaves with cid-version=0");
    }
    const chunker = q.get("chunker") ?? "size-262144";
    const chunkMatch = /^size-(\d+)$/.exec(chunker);
    if (chunkMatch === null) throw new KuboError(`the test server supports only size-N chunkers, not ${chunker}`);
    const chunkSize = Number(chunkMatch[1]);
    if (chunkSize <= 0 || chunkSize > 1_048_576) throw new KuboError(`chunker parameters may not exceed the maximum chunk size of 1048576`);

    const contentType = req.headers["content-type"] ?? "";
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
    if (!contentType.toLowerCase().startsWith("multipart/form-data") || boundary === null) {
      req.resume();
      throw new KuboError("file argument 'path' is required");
    }
    const body = await readBody(req, maxBodyBytes);
    const parts = parseMultipart(body, boundary[1] ?? boundary[2] ?? "");
    const files = parts.filter((p) => p.contentType !== "application/x-directory");
    if (parts.length === 0) throw new KuboError("file argument 'path' is required");
    if (files.length !== parts.length) throw new KuboError("the test server does not add directories");

    const store = onlyHash ? new MemoryBlockstore() : blockstore;
    const lines: string[] = [];
    for (const file of files) {
      const { cid, size } = await kuboImport(file.content, store, {
        cidVersion,
        rawLeaves: rawLeavesArg ?? cidVersion === 1,
        chunkSize,
      });
      const hashString = cid.toString();
      if (pin && !onlyHash) pins.add(hashString);
      const name = file.filename === "" ? hashString : file.filename;
      lines.push(`${JSON.stringify({ Name: name, Hash: hashString, Size: size.toString() })}\n`);
    }
    res.writeHead(200, {
      "Content-Type": "application/json",
      "X-Chunked-Output": "1",
      "X-Stream-Output": "1",
      "Trailer": "X-Stream-Error",
    });
    for (const line of lines) res.write(line);
    res.end();
  };

  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  const kubo: KuboServer = {
    apiUrl: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(value: KuboMode) {
      state.mode = value;
    },
    get slowMs() {
      return state.slowMs;
    },
    set slowMs(value: number) {
      state.slowMs = value;
    },
    get downStyle() {
      return state.downStyle;
    },
    set downStyle(value: KuboDownStyle) {
      state.downStyle = value;
    },
    pins,
    requests,
    blockstore,
    hasDag: (cid) => hasDag(CID.parse(cid)),
    cat: (cid) => readFile(CID.parse(cid)),
    close: async () => {
      for (const wake of waits) wake();
      const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  return kubo;
}

/** A command error: Kubo answers 500 with `Code: 0`. */
class KuboError extends Error {
  readonly status: number = 500;
  readonly code: number = 0;
}

/** A usage error (missing argument): Kubo answers 400 with `Code: 1`. */
class KuboClientError extends KuboError {
  override readonly status = 400;
  override readonly code = 1;
}

function notFoundLocally(cid: CID, prefix = ""): KuboError {
  return new KuboError(`${prefix}block was not found locally (offline): ipld: could not find ${cid.toString()}`);
}

function sendJson(res: ServerResponse, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** Kubo's error body: `{"Message":…,"Code":…,"Type":"error"}`. */
function sendError(res: ServerResponse, err: unknown): void {
  const status = err instanceof KuboError ? err.status : 500;
  const code = err instanceof KuboError ? err.code : 0;
  const message = err instanceof Error ? err.message : String(err);
  const body = `${JSON.stringify({ Message: message, Code: code, Type: "error" })}\n`;
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function parseCid(arg: string): CID {
  const path = arg.startsWith("/ipfs/") ? arg.slice("/ipfs/".length) : arg;
  if (path.includes("/")) throw new KuboError(`the test server does not resolve paths inside a DAG: ${arg}`);
  try {
    const cid = CID.parse(path);
    if (cid.multihash.code !== SHA2_256) throw new Error("unsupported hash");
    return cid;
  } catch {
    throw new KuboError(`invalid path "${arg}": invalid cid: selected encoding not supported`);
  }
}

function parseCidArg(q: URLSearchParams, name: string): CID {
  const arg = q.get("arg");
  if (arg === null) throw new KuboClientError(`argument "${name}" is required`);
  return parseCid(arg);
}

/** Go's strconv.ParseBool, which go-ipfs-cmds uses for boolean options. */
function optionalBool(q: URLSearchParams, name: string): boolean | undefined {
  const value = q.get(name);
  if (value === null) return undefined;
  if (["1", "t", "T", "TRUE", "true", "True", ""].includes(value)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
  throw new KuboClientError(`Could not convert value '${value}' to type 'bool' (for option '-${name}')`);
}

function optionalInt(q: URLSearchParams, name: string): number | undefined {
  const value = q.get(name);
  if (value === null) return undefined;
  if (!/^-?\d+$/.test(value)) {
    throw new KuboClientError(`Could not convert value '${value}' to type 'int64' (for option '-${name}')`);
  }
  return Number(value);
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) throw new KuboError(`request body larger than the test server's ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

interface MultipartPart {
  name: string;
  filename: string;
  contentType: string;
  content: Uint8Array;
}

/** Enough of RFC 7578 for what kubo-rpc-client and curl send. */
function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new KuboError("multipart: NextPart: EOF");
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === "--") break; // closing delimiter
    if (body.subarray(pos, pos + 2).toString() === "\r\n") pos += 2;
    const headerEnd = body.indexOf("\r\n\r\n", pos);
    if (headerEnd < 0) throw new KuboError("multipart: malformed part headers");
    const headers = new Map<string, string>();
    for (const line of body.subarray(pos, headerEnd).toString("utf8").split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const contentStart = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), contentStart);
    if (next < 0) throw new KuboError("multipart: NextPart: EOF");
    const disposition = headers.get("content-disposition") ?? "";
    const filename = /filename="([^"]*)"/.exec(disposition)?.[1] ?? "";
    parts.push({
      name: /\bname="([^"]*)"/.exec(disposition)?.[1] ?? "",
      filename: safeDecode(filename),
      contentType: headers.get("content-type") ?? "application/octet-stream",
      content: new Uint8Array(body.subarray(contentStart, next)),
    });
    pos = next + 2;
  }
  return parts;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Waits `ms`; resolves true when the client went away (or the server closed) first. */
function delay(ms: number, req: IncomingMessage, waits: Set<() => void>): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (gone: boolean) => {
      clearTimeout(timer);
      req.socket.off("close", onClose);
      waits.delete(wake);
      resolve(gone);
    };
    const onClose = () => finish(true);
    const wake = () => finish(true);
    const timer = setTimeout(() => finish(false), ms);
    req.socket.on("close", onClose);
    waits.add(wake);
  });
}

// --- minimal protobuf readers for dag-pb nodes and UnixFS Data (enough to walk a file DAG) ---

const UNIXFS_RAW = 0;
const UNIXFS_FILE = 2;

interface PBNode {
  data?: Uint8Array;
  links: { cid: CID }[];
}

function decodePBNode(bytes: Uint8Array): PBNode {
  const node: PBNode = { links: [] };
  for (const field of readFields(bytes)) {
    if (field.no === 1 && field.bytes) node.data = field.bytes;
    if (field.no === 2 && field.bytes) {
      for (const linkField of readFields(field.bytes)) {
        if (linkField.no === 1 && linkField.bytes) node.links.push({ cid: CID.decode(linkField.bytes) });
      }
    }
  }
  return node;
}

function decodeUnixFsData(bytes: Uint8Array): { type: number; data?: Uint8Array } {
  let type = -1;
  let data: Uint8Array | undefined;
  for (const field of readFields(bytes)) {
    if (field.no === 1 && field.varint !== undefined) type = Number(field.varint);
    if (field.no === 2 && field.bytes) data = field.bytes;
  }
  return data === undefined ? { type } : { type, data };
}

function* readFields(bytes: Uint8Array): Generator<{ no: number; varint?: bigint; bytes?: Uint8Array }> {
  let pos = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = bytes[pos++];
      if (byte === undefined) throw new KuboError("protobuf: unexpected end of data");
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < bytes.length) {
    const key = readVarint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) yield { no, varint: readVarint() };
    else if (wire === 2) {
      const len = Number(readVarint());
      yield { no, bytes: bytes.subarray(pos, pos + len) };
      pos += len;
    } else throw new KuboError(`protobuf: unsupported wire type ${wire}`);
  }
}
