/**
 * The SSRF guard and the fetch bounds, against the local test website (127.0.0.1, so these fetchers allow private
 * addresses unless a test is about refusing them) and resolvers injected per test. onConnect records every
 * connection the guard let through: a refused address never appears there, and the website's request log shows that
 * nothing behind a refused hop was asked for.
 */
import { gunzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startWebsite, WEBSITE_PATHS as P, type Website } from "../../test/servers/website.js";
import { articlePage } from "../../test/fixtures/web-pages.js";
import { SafeFetcher, type SafeFetcherOptions } from "./safe-fetch.js";
import { WebFetchError } from "./web-error.js";

let site: Website;
const fetchers: SafeFetcher[] = [];
let connections: Array<{ host: string; address: string }> = [];

beforeAll(async () => {
  site = await startWebsite({ slowMs: 3_000, bigBytes: 6 * 1024 * 1024 });
});
afterEach(async () => {
  await Promise.all(fetchers.splice(0).map((f) => f.close()));
  connections = [];
});
afterAll(async () => {
  await site.close();
});

function fetcher(opts: Partial<SafeFetcherOptions> = {}): SafeFetcher {
  const f = new SafeFetcher({ allowPrivate: true, onConnect: (c) => connections.push(c), ...opts });
  fetchers.push(f);
  return f;
}

async function failure(promise: Promise<unknown>): Promise<WebFetchError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WebFetchError) return err;
    throw err;
  }
  throw new Error("expected a WebFetchError");
}

const onlyLoopback = () => connections.every((c) => c.address === "127.0.0.1");

describe("SafeFetcher", () => {
  it("reads a gzip page, decompressed", async () => {
    const page = await fetcher().fetch(site.url(P.article));
    expect(page.status).toBe(200);
    expect(page.contentType).toContain("text/html");
    expect(new TextDecoder().decode(page.bytes)).toBe(articlePage().html);
    expect(site.requestsFor(P.article).at(-1)!.headers["accept-encoding"]).toContain("gzip");
    expect(() => gunzipSync(page.bytes)).toThrow();
  });

  it("follows five redirects, relative and absolute, and refuses a sixth", async () => {
    const five = await fetcher().fetch(site.url(P.redirect(5)));
    expect(five).toMatchObject({ url: site.url(P.article), redirects: 5 });
    const absolute = await fetcher().fetch(site.url(`${P.redirectAbsolute(3)}?status=308`));
    expect(absolute).toMatchObject({ url: site.url(P.article), redirects: 3 });
    const before = site.requestsFor(P.article).length;
    expect((await failure(fetcher().fetch(site.url(P.redirect(6))))).reason).toBe("redirects");
    expect(site.requestsFor(P.article).length).toBe(before);
    expect((await failure(fetcher().fetch(site.url(P.redirectLoop)))).reason).toBe("redirects");
  });

  it("refuses a redirect to the metadata service or a private network before connecting, even with private allowed", async () => {
    for (const path of [P.toMetadata, `${P.redirect(3)}?then=metadata`]) {
      const err = await failure(fetcher().fetch(site.url(path)));
      expect(err).toMatchObject({ reason: "refused", details: { range: "metadata" } });
    }
    expect(onlyLoopback()).toBe(true);

    // With private addresses refused, 10.0.0.1 and ::1 are refused as well, and the website itself.
    const strict = fetcher({ allowPrivate: false });
    const before = site.requests.length;
    for (const path of [P.toPrivate, P.toLoopbackV6, P.article]) {
      expect((await failure(strict.fetch(site.url(path)))).reason).toBe("refused");
    }
    expect(site.requests.length).toBe(before);
    expect(onlyLoopback()).toBe(true);
  });

  it("judges a name by the address it resolves to: localhost is loopback", async () => {
    const port = new URL(site.origin).port;
    const err = await failure(fetcher({ allowPrivate: false }).fetch(`http://localhost:${port}/secret`));
    expect(err).toMatchObject({ reason: "refused", details: { range: "loopback" } });
    expect(site.requested("/secret")).toBe(false);
    expect(connections).toEqual([]);
    // Allowed, the redirect to `localhost` lands on /secret: the hop is really followed, through the same check.
    await failure(fetcher().fetch(site.url(P.toLocalhost)));
    expect(site.requested("/secret")).toBe(true);
    expect(connections.map((c) => c.host)).toEqual(["127.0.0.1", "localhost"]);
  });

  it.each([
    ["10.1.2.3"],
    ["172.20.0.1"],
    ["192.168.0.10"],
    ["127.0.0.1"],
    ["100.64.1.1"],
    ["169.254.169.254"],
    ["169.254.0.1"],
    ["0.0.0.0"],
    ["::1"],
    ["fe80::1"],
    ["fd00::1"],
    ["::ffff:10.0.0.1"],
    ["64:ff9b::a9fe:a9fe"],
    ["fd00:ec2::254"],
  ])("refuses a name resolving to %s without connecting", async (address) => {
    const strict = fetcher({ allowPrivate: false, resolve: () => Promise.resolve([{ address, family: address.includes(":") ? 6 : 4 }]) });
    const err = await failure(strict.fetch("http://innocent.example/page"));
    expect(err.reason).toBe("refused");
    expect(connections).toEqual([]);
  });

  it("refuses a name with one public and one private address (no picking the good one)", async () => {
    const strict = fetcher({
      allowPrivate: false,
      resolve: () =>
        Promise.resolve([
          { address: "93.184.216.34", family: 4 },
          { address: "10.0.0.7", family: 4 },
        ]),
    });
    expect((await failure(strict.fetch("https://rebind.example/")))).toMatchObject({ reason: "refused", details: { range: "private" } });
    expect(connections).toEqual([]);
  });

  it("refuses IP literals in any spelling before connecting", async () => {
    const strict = fetcher({ allowPrivate: false });
    for (const url of ["http://10.0.0.1/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/", "http://0x7f000001/", "http://2130706433/", "http://[::ffff:a9fe:a9fe]/"]) {
      expect((await failure(strict.fetch(url))).reason, url).toBe("refused");
    }
    expect(connections).toEqual([]);
  });

  it("stops at 5 MB, declared or not, and cancels the download", async () => {
    expect((await failure(fetcher().fetch(site.url(P.bigDeclared))))).toMatchObject({ reason: "too_large" });
    // 64 MiB, more than loopback socket buffers take in at once, so a download that goes on would show.
    site.bigBytes = 64 * 1024 * 1024;
    try {
      expect((await failure(fetcher().fetch(site.url(P.big))))).toMatchObject({ reason: "too_large" });
      await expect.poll(() => site.requestsFor(P.big).at(-1)?.aborted, { timeout: 5_000 }).toBe(true);
      expect(site.requestsFor(P.big).at(-1)!.bytesSent).toBeLessThan(64 * 1024 * 1024);
    } finally {
      site.bigBytes = 6 * 1024 * 1024;
    }
  });

  it("gives up after its time limit, on slow headers and on a trickling body", async () => {
    const quick = fetcher({ timeoutMs: 600 });
    expect((await failure(quick.fetch(site.url(`${P.slow}?ms=3000`))))).toMatchObject({ reason: "timeout" });
    expect((await failure(quick.fetch(site.url(`${P.slowBody}?ms=3000`))))).toMatchObject({ reason: "timeout" });
    await expect.poll(() => site.requestsFor(P.slowBody).at(-1)?.aborted, { timeout: 5_000 }).toBe(true);
  });

  it("says when the caller cancelled, when the server answered an error, and when the URL is not fetchable", async () => {
    const controller = new AbortController();
    const pending = fetcher().fetch(site.url(`${P.slow}?ms=3000`), { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect((await failure(pending)).reason).toBe("aborted");
    expect((await failure(fetcher().fetch(site.url(P.notFound))))).toMatchObject({ reason: "status", details: { status: 404 } });
    expect((await failure(fetcher().fetch(site.url(P.serverError))))).toMatchObject({ reason: "status", details: { status: 500 } });
    for (const url of ["ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "not a url", "http://user:pw@example.com/"]) {
      expect((await failure(fetcher().fetch(url))).reason, url).toBe("invalid_url");
    }
    expect((await failure(fetcher({ resolve: () => Promise.reject(new Error("ENOTFOUND")) }).fetch("http://nowhere.invalid/"))).reason).toBe("not_found");
  });
});
