// The test website over real HTTP (Node's fetch). Redirects toward private addresses are only ever read with
// `redirect: "manual"`: nothing may connect to them.
import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileTypeFromBuffer } from "file-type";
import { REPORT_PAGES } from "../fixtures/documents.js";
import { articlePage, chineseArticlePage } from "../fixtures/web-pages.js";
import { PRIVATE_REDIRECT_TARGETS, startWebsite, WEBSITE_PATHS as P, type Website } from "./website.js";

const run = promisify(execFile);

let site: Website;

beforeEach(async () => {
  site = await startWebsite();
});

afterEach(async () => {
  await site.close();
});

const manual = (path: string) => fetch(site.url(path), { redirect: "manual" });

describe("test website", () => {
  it("serves the article gzip-encoded to a client that accepts gzip, and plain to one that does not", async () => {
    const res = await fetch(site.url(P.article));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(await res.text()).toBe(articlePage().html);
    expect(site.requestsFor(P.article)[0]!.headers["accept-encoding"]).toContain("gzip");

    const plain = await fetch(site.url(P.article), { headers: { "accept-encoding": "identity" } });
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(Number(plain.headers.get("content-length"))).toBe(Buffer.byteLength(articlePage().html));

    const zh = await (await fetch(site.url(P.chineseArticle))).text();
    expect(zh).toBe(chineseArticlePage().html);
    expect(zh).toContain("<title>古老灯塔守护人的日记首次公开展出 | 海滨日报</title>");
  });

  it("serves real PDFs as application/pdf", async () => {
    const res = await fetch(site.url(P.pdf));
    expect(res.headers.get("content-type")).toBe("application/pdf");
    const path = join(tmpdir(), `website-test-${process.pid}.pdf`);
    await writeFile(path, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await run("pdftotext", ["-f", "2", "-l", "2", path, "-"]);
    await rm(path);
    expect(stdout.replace(/\s+/g, " ").trim()).toBe(REPORT_PAGES[1]);
    const scanned = Buffer.from(await (await fetch(site.url(P.scannedPdf))).arrayBuffer());
    expect((await fileTypeFromBuffer(scanned))?.ext).toBe("pdf");
  });

  it("streams a page over 5 MB without a length, and declares the length on /big-declared", async () => {
    const res = await fetch(site.url(P.big));
    expect(res.headers.get("content-length")).toBeNull();
    expect(res.headers.get("transfer-encoding")).toBe("chunked");
    const body = await res.text();
    expect(body.length).toBe(6 * 1024 * 1024);
    expect(body.endsWith("</body></html>\n")).toBe(true);
    const declared = await fetch(site.url(P.bigDeclared));
    expect(Number(declared.headers.get("content-length"))).toBe(6 * 1024 * 1024);
    await declared.body?.cancel();
  });

  it("records a download the client abandoned", async () => {
    site.bigBytes = 64 * 1024 * 1024;
    const res = await fetch(site.url(P.big));
    const reader = res.body!.getReader();
    let read = 0;
    while (read < 1024 * 1024) read += ((await reader.read()).value as Uint8Array | undefined)?.length ?? 0;
    await reader.cancel();
    const record = site.requestsFor(P.big)[0]!;
    await expect.poll(() => record.aborted, { timeout: 5000 }).toBe(true);
    expect(record.completed).toBe(false);
    expect(record.bytesSent).toBeLessThan(64 * 1024 * 1024);
  });

  it("is slow on demand: late headers on /slow, a trickling body on /slow-body", async () => {
    const late = await fetch(site.url(`${P.slow}?ms=2000`), { signal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
    expect((late as Error).name).toBe("TimeoutError");
    await expect.poll(() => site.requestsFor(P.slow)[0]!.aborted, { timeout: 5000 }).toBe(true);

    const started = Date.now();
    const trickle = await fetch(site.url(`${P.slowBody}?ms=300`));
    // The headers are here while the body is still being written.
    expect(site.requestsFor(P.slowBody)[0]!.completed).toBe(false);
    const text = await trickle.text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(text).toContain("<p>line 10</p>");
  });

  it("redirects through relative and absolute chains of 1…6 hops to the article", async () => {
    const locations: string[] = [];
    let path: string = P.redirect(3);
    for (;;) {
      const res = await manual(path);
      if (res.status !== 302) break;
      locations.push(res.headers.get("location")!);
      path = res.headers.get("location")!;
    }
    expect(locations).toEqual(["/redirect/2", "/redirect/1", "/article"]);
    const absolute = await manual(P.redirectAbsolute(2));
    expect(absolute.headers.get("location")).toBe(site.url("/redirect-absolute/1"));
    for (let hops = 1; hops <= 6; hops++) {
      const followed = await fetch(site.url(P.redirect(hops)));
      expect([followed.redirected, new URL(followed.url).pathname]).toEqual([true, "/article"]);
    }
    expect((await manual(`${P.redirect(2)}?status=307`)).status).toBe(307);
    expect((await manual(`${P.redirect(2)}?status=307`)).headers.get("location")).toBe("/redirect/1?status=307");
    expect((await manual(P.redirectLoop)).headers.get("location")).toBe(P.redirectLoop);
  });

  it("names private and metadata addresses in Location headers, directly or at the end of a chain", async () => {
    expect((await manual(P.toMetadata)).headers.get("location")).toBe(PRIVATE_REDIRECT_TARGETS.metadata);
    expect(PRIVATE_REDIRECT_TARGETS.metadata).toBe("http://169.254.169.254/latest/meta-data/");
    expect((await manual(P.toPrivate)).headers.get("location")).toBe("http://10.0.0.1/");
    expect((await manual(P.toLoopbackV6)).headers.get("location")).toBe("http://[::1]/admin");
    expect((await manual(P.toLocalhost)).headers.get("location")).toBe(`http://localhost:${new URL(site.origin).port}/secret`);
    expect((await manual(`${P.redirect(1)}?then=metadata`)).headers.get("location")).toBe(PRIVATE_REDIRECT_TARGETS.metadata);
    expect((await manual(`${P.redirect(2)}?then=private`)).headers.get("location")).toBe("/redirect/1?then=private");
    expect(site.requested("/secret")).toBe(false);
  });

  it("serves a meta refresh, binaries with their types, a 404 and a 500", async () => {
    expect(await (await fetch(site.url(P.metaRefresh))).text()).toContain('<meta http-equiv="refresh" content="0; url=/article">');
    const zip = await fetch(site.url(P.zip));
    expect(zip.headers.get("content-type")).toBe("application/zip");
    expect((await fileTypeFromBuffer(Buffer.from(await zip.arrayBuffer())))?.ext).toBe("zip");
    const png = await fetch(site.url(P.png));
    expect([png.headers.get("content-type"), (await fileTypeFromBuffer(Buffer.from(await png.arrayBuffer())))?.ext]).toEqual(["image/png", "png"]);
    expect((await fetch(site.url(P.binary))).headers.get("content-type")).toBe("application/octet-stream");
    expect((await fetch(site.url(P.plainText))).headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const missing = await fetch(site.url(P.notFound));
    expect([missing.status, missing.headers.get("content-type")]).toEqual([404, "text/html; charset=utf-8"]);
    expect((await fetch(site.url("/no/such/page"))).status).toBe(404);
    expect((await fetch(site.url(P.serverError))).status).toBe(500);
    expect(await (await fetch(site.url(P.index))).text()).toContain('<a href="/article">article</a>');
  });

  it("takes pages added by tests and records what was and was not requested", async () => {
    site.route("/custom", { body: "<p>custom</p>", headers: { "x-test": "1" } });
    site.route("/code", (_req, res, url) => {
      res.writeHead(201, { "content-type": "text/plain" });
      res.end(`q=${url.searchParams.get("q")}`);
    });
    site.route(P.article, { status: 410, body: "gone" });
    const custom = await fetch(site.url("/custom"));
    expect([custom.status, custom.headers.get("x-test"), await custom.text()]).toEqual([200, "1", "<p>custom</p>"]);
    const code = await fetch(site.url("/code?q=tides"));
    expect([code.status, await code.text()]).toEqual([201, "q=tides"]);
    expect((await fetch(site.url(P.article))).status).toBe(410);
    expect(site.requested("/custom")).toBe(true);
    expect(site.requestsFor("/code")[0]).toMatchObject({ method: "GET", url: "/code?q=tides", completed: true, aborted: false });
    expect(site.requested("/never")).toBe(false);
  });
});
