// Request parameters and error answers, as the Bot API reads and writes them: a method takes its parameters from the
// query string, a JSON body, an urlencoded form or multipart/form-data (files), and values that arrive as strings are
// coerced like Telegram does ("123" is an Integer, "true" a Boolean, objects JSON-serialized). Errors are answered as
// `{ ok: false, error_code, description, parameters? }`, with Telegram's wording.
import type { IncomingMessage } from "node:http";
import { multipartBoundary, parseMultipart, readBody, type MultipartPart } from "../http-util.js";
import { isObject, type Json } from "./json.js";
import type { ApiErrorBody } from "./types.js";

/** Largest request body read (Telegram accepts 50 MB uploads; multipart overhead on top). */
const MAX_BODY = 60 * 1024 * 1024;

/** An error answered to the client: HTTP status = error_code, with Telegram's description. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: ApiErrorBody["parameters"],
  ) {
    super(description);
  }
}

export const badRequest = (reason: string) => new ApiError(400, `Bad Request: ${reason}`);
export const NOT_FOUND = () => new ApiError(404, "Not Found");

/** Typed access to request parameters. Values from forms arrive as strings and are coerced like Telegram does. */
export class Params {
  /** What the call log shows: raw params with every accessed one replaced by its decoded value. */
  readonly decoded: Json;

  constructor(
    private readonly raw: Json,
    readonly files: Map<string, MultipartPart>,
  ) {
    this.decoded = { ...raw };
    for (const [name, part] of files) {
      this.decoded[name] ??= { file: part.filename ?? name, size: part.data.length };
    }
  }

  has(name: string): boolean {
    return this.raw[name] !== undefined && this.raw[name] !== null;
  }

  int(name: string): number | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    let n: number | undefined;
    if (typeof v === "number" && Number.isSafeInteger(v)) n = v;
    else if (typeof v === "string" && /^-?\d{1,16}$/.test(v.trim())) n = Number(v.trim());
    if (n === undefined) throw badRequest(`field "${name}" must be of type Integer`);
    this.decoded[name] = n;
    return n;
  }

  str(name: string): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number" || typeof v === "boolean") {
      this.decoded[name] = String(v);
      return String(v);
    }
    if (typeof v !== "string") throw badRequest(`field "${name}" must be of type String`);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    let b: boolean | undefined;
    if (typeof v === "boolean") b = v;
    else if (v === "true" || v === "1" || v === 1) b = true;
    else if (v === "false" || v === "0" || v === 0) b = false;
    if (b === undefined) throw badRequest(`field "${name}" must be of type Boolean`);
    this.decoded[name] = b;
    return b;
  }

  /**
   * A flag that must be a Boolean: JSON true/false, or "true"/"false" from a form. Numbers and anything else are
   * refused (e.g. `can_stop`: a bot that sends 1 for it has a bug worth seeing).
   */
  strictBool(name: string): boolean | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    const b = v === true || v === "true" ? true : v === false || v === "false" ? false : undefined;
    if (b === undefined) throw badRequest(`field "${name}" must be of type Boolean`);
    this.decoded[name] = b;
    return b;
  }

  /** An object/array parameter; forms (and sometimes JSON) carry it JSON-serialized in a string. */
  json(name: string, parseError: string): unknown {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    let value: unknown = v;
    if (typeof v === "string") {
      try {
        value = JSON.parse(v);
      } catch {
        throw badRequest(parseError);
      }
    }
    this.decoded[name] = value;
    return value;
  }

  /** chat_id: an integer, or an @username string. */
  chatId(name = "chat_id"): number | string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v === "string" && v.startsWith("@")) return v;
    return this.int(name);
  }
}

/** Reads a method's parameters from the query string and the body (JSON, urlencoded or multipart). */
export async function decodeParams(req: IncomingMessage, url: URL): Promise<Params> {
  const raw: Json = {};
  for (const [k, v] of url.searchParams) raw[k] = v;
  const files = new Map<string, MultipartPart>();
  if (req.method !== "POST") {
    req.resume();
    return new Params(raw, files);
  }
  const body = await readBody(req, MAX_BODY);
  const type = (req.headers["content-type"] ?? "").toLowerCase();
  if (body.length === 0) return new Params(raw, files);
  if (type.startsWith("application/json")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw badRequest("can't parse JSON request body");
    }
    if (!isObject(parsed)) throw badRequest("request body must be a JSON object");
    Object.assign(raw, parsed);
  } else if (type.startsWith("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(body.toString("utf8"))) raw[k] = v;
  } else if (type.startsWith("multipart/form-data")) {
    const boundary = multipartBoundary(req.headers["content-type"] ?? "");
    if (!boundary) throw badRequest("multipart boundary is missing");
    let parts: MultipartPart[];
    try {
      parts = parseMultipart(body, boundary);
    } catch (err) {
      throw badRequest(`can't parse multipart body: ${(err as Error).message}`);
    }
    for (const part of parts) {
      if (part.filename !== undefined) files.set(part.name, part);
      else raw[part.name] = part.data.toString("utf8");
    }
  } else {
    throw badRequest(`unsupported content-type ${JSON.stringify(type)}`);
  }
  return new Params(raw, files);
}

/** Telegram's check of a URL parameter (text_link, inline button url, webhook url); `tg://` links where allowed. */
export function isValidUrl(url: string, allowTg: boolean): boolean {
  if (allowTg && /^tg:\/\/\S+$/i.test(url)) return true;
  try {
    const parsed = new URL(url);
    return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname.length > 0;
  } catch {
    return false;
  }
}
