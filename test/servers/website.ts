/**
 * A local website on loopback for the "read a link" feature: what the open web serves a fetcher, on one port.
 *
 * Pages (see WEBSITE_PATHS): an English and a Chinese article inside realistic clutter (test/fixtures/web-pages.ts),
 * gzip-encoded when the client accepts it; a plain-text page; real PDFs (three pages of known text, and an image-only
 * one); a page over 5 MB streamed without a length and one that declares it; a page whose headers come late and one
 * whose body trickles (for the 10 s timeout; `slowMs` or `?ms=`); redirect chains of any length, relative or absolute,
 * with any redirect status, and chains that end at a private or metadata address; a redirect loop; a meta refresh; a
 * zip, a PNG and an octet-stream blob; a 404 and a 500. Tests add or replace pages with route().
 *
 * Every request is recorded (path, headers, bytes sent, whether the client hung up early), so a test can assert that
 * a URL was never requested, or that a download was abandoned.
 *
 * Looser than real sites: plain HTTP on 127.0.0.1 only, no TLS, no robots.txt, no cookies, no content negotiation
 * beyond gzip. The private targets are only ever named in Location headers: nothing here listens on them, and a test
 * must never let a client follow them (the bot's SSRF guard has to refuse them before connecting).
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import { makeImagePdf, makeTextPdf, makeZip, REPORT_PAGES } from "../fixtures/documents.js";
import { makePng } from "../fixtures/images.js";
import { articlePage, chineseArticlePage } from "../fixtures/web-pages.js";
import { closeServer, startFake } from "./http-util.js";
import { ResponseLife } from "./openai/lifetime.js";

/** Addresses a redirect may point at that a fetcher must refuse (cloud metadata, RFC 1918, IPv6 loopback). */
export const PRIVATE_REDIRECT_TARGETS = {
  metadata: "http://169.254.169.254/latest/meta-data/",
  private: "http://10.0.0.1/",
  loopbackV6: "http://[::1]/admin",
} as const;

/** The built-in pages. `:n` is a number of hops; `?ms=` overrides the slow delay. */
export const WEBSITE_PATHS = {
  index: "/",
  article: "/article",
  chineseArticle: "/zh/article",
  plainText: "/notes.txt",
  pdf: "/docs/report.pdf",
  scannedPdf: "/docs/scanned.pdf",
  /** Over 5 MB of HTML, chunked, no content-length. */
  big: "/big",
  /** The same size with a content-length header, so a client can refuse before reading. */
  bigDeclared: "/big-declared",
  /** Headers only after the slow delay. */
  slow: "/slow",
  /** Headers at once, then the body a line at a time over the slow delay. */
  slowBody: "/slow-body",
  /** `/redirect/3` → `/redirect/2` → `/redirect/1` → `/article` (relative Locations, 302; `?status=301|303|307|308`, `?then=metadata|private|loopbackV6|localhost`). */
  redirect: (hops: number) => `/redirect/${hops}`,
  /** As redirect, with absolute Locations. */
  redirectAbsolute: (hops: number) => `/redirect-absolute/${hops}`,
  redirectLoop: "/redirect-loop",
  /** One 302 straight to PRIVATE_REDIRECT_TARGETS.metadata. */
  toMetadata: "/to/metadata",
  /** One 302 to PRIVATE_REDIRECT_TARGETS.private. */
  toPrivate: "/to/private",
  /** One 302 to PRIVATE_REDIRECT_TARGETS.loopbackV6. */
  toLoopbackV6: "/to/loopback-v6",
  /** One 302 to this site by the name `localhost` (`/secret`): a guard that resolves names must refuse it. */
  toLocalhost: "/to/localhost",
  metaRefresh: "/meta-refresh",
  zip: "/files/archive.zip",
  png: "/images/photo.png",
  binary: "/files/data.bin",
  notFound: "/missing",
  serverError: "/error",
} as const;

/** One request the site received. */
export interface WebsiteRequest {
  method: string;
  /** Path and query, as requested. */
  url: string;
  /** Path only. */
  path: string;
  headers: IncomingMessage["headers"];
  /** performance.now() when it arrived. */
  at: number;
  /** Body bytes written so far (as sent: compressed when gzip). */
  bytesSent: number;
  /** The whole response was written. */
  completed: boolean;
  /** The client closed the connection before the response's end. */
  aborted: boolean;
}

/** A page a test adds: served as given. */
export interface WebsitePage {
  status?: number;
  /** Default "text/html; charset=utf-8". */
  contentType?: string;
  body: string | Uint8Array;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** A page a test adds as code. */
export type WebsiteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

/** Options of startWebsite(). */
export interface WebsiteOptions {
  /** Delay of /slow and /slow-body unless `?ms=` is given. Default 15000 (past a 10 s fetch timeout). */
  slowMs?: number;
  /** Size of /big and /big-declared. Default 6 MiB (past a 5 MB limit). */
  bigBytes?: number;
}

const HTML = "text/html; charset=utf-8";

function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>\n`;
}

/** The running test website: add pages, read what was requested. */
export class Website {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly requests: WebsiteRequest[] = [];
  slowMs: number;
  bigBytes: number;
  private readonly routes = new Map<string, WebsitePage | WebsiteHandler>();
  private readonly stop = new AbortController();
  private readonly cache = new Map<string, Promise<Uint8Array>>();

  /** Use startWebsite(). */
  constructor(
    private readonly server: Server,
    origin: string,
    options: WebsiteOptions,
  ) {
    this.origin = origin;
    this.slowMs = options.slowMs ?? 15_000;
    this.bigBytes = options.bigBytes ?? 6 * 1024 * 1024;
  }

  /** The absolute URL of a path on this site. */
  url(path: string): string {
    return new URL(path, this.origin).toString();
  }

  /** Adds or replaces the page at `path` (an exact path, query ignored). */
  route(path: string, page: WebsitePage | WebsiteHandler): void {
    this.routes.set(path, page);
  }

  /** Requests for `path` (exact path, any query), oldest first. */
  requestsFor(path: string): WebsiteRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** True when anything asked for `path`. */
  requested(path: string): boolean {
    return this.requestsFor(path).length > 0;
  }

  /** Ends every response in progress and stops listening. */
  async close(): Promise<void> {
    this.stop.abort();
    await closeServer(this.server);
  }

  /** @internal */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", this.origin);
    const record: WebsiteRequest = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      path: url.pathname,
      headers: req.headers,
      at: performance.now(),
      bytesSent: 0,
      completed: false,
      aborted: false,
    };
    this.requests.push(record);
    req.resume();
    res.once("finish", () => (record.completed = true));
    res.once("close", () => {
      if (!res.writableFinished && !this.stop.signal.aborted) record.aborted = true;
    });
    const write = res.write.bind(res) as (chunk: string | Uint8Array) => boolean;
    res.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      record.bytesSent += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof res.write;
    this.serve(req, res, url).catch((error: unknown) => {
      if (!res.headersSent) this.send(res, 500, HTML, htmlPage("Error", `<p>test site failure: ${String(error)}</p>`));
      else res.destroy();
    });
  }

  private send(res: ServerResponse, status: number, contentType: string, body: string | Uint8Array, headers: Record<string, string> = {}): void {
    if (res.destroyed || res.writableEnded) return;
    const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body);
    res.writeHead(status, { "content-type": contentType, "content-length": bytes.length, ...headers });
    res.write(bytes);
    res.end();
  }

  private redirect(res: ServerResponse, location: string, status = 302): void {
    this.send(res, status, HTML, htmlPage("Moved", `<p>Moved to <a href="${location}">${location}</a></p>`), { location });
  }

  private once(key: string, make: () => Promise<Uint8Array>): Promise<Uint8Array> {
    let made = this.cache.get(key);
    if (!made) {
      made = make();
      this.cache.set(key, made);
    }
    return made;
  }

  private async serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const life = new ResponseLife(res, this.stop.signal);
    const custom = this.routes.get(url.pathname);
    if (typeof custom === "function") return custom(req, res, url);
    if (custom) {
      await life.sleep(custom.delayMs);
      return this.send(res, custom.status ?? 200, custom.contentType ?? HTML, custom.body, custom.headers);
    }
    const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    const ms = url.searchParams.has("ms") ? Number(url.searchParams.get("ms")) : this.slowMs;
    const path = url.pathname;
    const P = WEBSITE_PATHS;

    if (path === P.index) {
      const links = Object.entries(P)
        .filter(([, v]) => typeof v === "string")
        .map(([k, v]) => `<li><a href="${v as string}">${k}</a></li>`)
        .join("");
      return this.send(res, 200, HTML, htmlPage("Test site", `<h1>Test site</h1><ul>${links}</ul>`));
    }
    if (path === P.article || path === P.chineseArticle) {
      const html = Buffer.from((path === P.article ? articlePage() : chineseArticlePage()).html);
      if (gzip) return this.send(res, 200, HTML, gzipSync(html), { "content-encoding": "gzip", vary: "Accept-Encoding" });
      return this.send(res, 200, HTML, html, { vary: "Accept-Encoding" });
    }
    if (path === P.plainText) {
      return this.send(res, 200, "text/plain; charset=utf-8", "Ferry notes\n\nThe ferry to Tiree leaves Oban at 07:15 on weekdays.\n");
    }
    if (path === P.pdf) return this.send(res, 200, "application/pdf", await this.once(path, () => makeTextPdf([...REPORT_PAGES])));
    if (path === P.scannedPdf) return this.send(res, 200, "application/pdf", await this.once(path, () => makeImagePdf()));
    if (path === P.big || path === P.bigDeclared) return this.big(res, life, path === P.bigDeclared);
    if (path === P.slow) {
      await life.sleep(ms);
      return this.send(res, 200, HTML, htmlPage("Slow page", "<p>This page took its time.</p>"));
    }
    if (path === P.slowBody) {
      res.writeHead(200, { "content-type": HTML });
      res.write("<!DOCTYPE html><html><body>");
      for (let i = 0; i < 10 && !life.gone; i++) {
        await life.sleep(ms / 10);
        if (!life.gone) res.write(`<p>line ${i + 1}</p>\n`);
      }
      if (!life.gone) res.end("</body></html>");
      return;
    }
    const chain = /^\/redirect(-absolute)?\/(\d+)$/.exec(path);
    if (chain) {
      const hops = Number(chain[2]);
      const status = Number(url.searchParams.get("status") ?? 302);
      const then = url.searchParams.get("then");
      const next =
        hops > 1
          ? `/redirect${chain[1] ?? ""}/${hops - 1}${url.search}`
          : then
            ? this.privateTarget(then)
            : P.article;
      const location = chain[1] && next.startsWith("/") ? this.url(next) : next;
      return this.redirect(res, location, status);
    }
    if (path === P.redirectLoop) return this.redirect(res, P.redirectLoop);
    const to = /^\/to\/([a-z0-9-]+)$/.exec(path);
    if (to) {
      const name = { metadata: "metadata", private: "private", "loopback-v6": "loopbackV6", localhost: "localhost" }[to[1]!];
      if (name) return this.redirect(res, this.privateTarget(name));
    }
    if (path === P.metaRefresh) {
      return this.send(
        res,
        200,
        HTML,
        `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${P.article}"><title>Redirecting</title></head><body><p>Redirecting to <a href="${P.article}">the article</a>.</p></body></html>`,
      );
    }
    if (path === P.zip) {
      const zip = await this.once(path, () => makeZip({ "readme.txt": "An archive, not a page.\n", "data/values.csv": "a,b\n1,2\n" }));
      return this.send(res, 200, "application/zip", zip, { "content-disposition": 'attachment; filename="archive.zip"' });
    }
    if (path === P.png) return this.send(res, 200, "image/png", makePng(64, 48, 7));
    if (path === P.binary) return this.send(res, 200, "application/octet-stream", Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 131 + 7) % 256)));
    if (path === P.serverError) return this.send(res, 500, HTML, htmlPage("Internal Server Error", "<h1>500</h1><p>Something broke.</p>"));
    return this.send(res, 404, HTML, htmlPage("Not Found", "<h1>404</h1><p>No such page.</p>"));
  }

  private privateTarget(name: string): string {
    if (name === "localhost") return `http://localhost:${new URL(this.origin).port}/secret`;
    return PRIVATE_REDIRECT_TARGETS[name as keyof typeof PRIVATE_REDIRECT_TARGETS] ?? PRIVATE_REDIRECT_TARGETS.metadata;
  }

  /** Streams `bigBytes` of HTML in 64 KiB pieces, honouring backpressure and stopping when the client goes. */
  private async big(res: ServerResponse, life: ResponseLife, declared: boolean): Promise<void> {
    const head = "<!DOCTYPE html><html><head><title>A very large page</title></head><body>\n";
    const tail = "</body></html>\n";
    const line = Buffer.from(`<p>${"Filler text for a page that is far too large to read whole. ".repeat(16)}</p>\n`);
    const total = Math.max(this.bigBytes, head.length + tail.length);
    res.writeHead(200, { "content-type": HTML, ...(declared ? { "content-length": String(total) } : {}) });
    let sent = 0;
    const push = async (chunk: Buffer) => {
      sent += chunk.length;
      if (!res.write(chunk)) await Promise.race([new Promise((resolve) => res.once("drain", resolve)), life.over]);
    };
    await push(Buffer.from(head));
    const piece = Buffer.concat(Array.from({ length: Math.ceil((64 * 1024) / line.length) }, () => line));
    while (!life.gone && sent + piece.length <= total - tail.length) await push(piece);
    if (life.gone) return;
    await push(piece.subarray(0, total - tail.length - sent));
    if (!life.gone) res.end(tail);
  }
}

/** Starts the test website on 127.0.0.1 with a random port. */
export async function startWebsite(options: WebsiteOptions = {}): Promise<Website> {
  return startFake((server, origin) => new Website(server, origin, options));
}
