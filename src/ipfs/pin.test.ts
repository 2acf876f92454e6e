import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makePng } from "../../test/fixtures/images.js";
import { startKuboServer, type KuboServer } from "../../test/servers/kubo.js";
import { createIpfsPinner, gatewayPrefix, IpfsPinError } from "./pin.js";

function ipfsCidV0(bytes: Uint8Array, dir: string): string {
  const file = join(dir, `f-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, bytes);
  const run = spawnSync("ipfs_cid", [file], { encoding: "utf8" });
  if (run.error !== undefined) {
    throw new Error("the `ipfs_cid` binary is not installed: `apt-get install ipfs-cid` (Debian) — the CID check needs it");
  }
  return (JSON.parse(run.stdout) as { CIDv0: string }).CIDv0;
}

async function pinError(promise: Promise<unknown>): Promise<IpfsPinError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IpfsPinError);
  return err as IpfsPinError;
}

describe("createIpfsPinner", () => {
  let kubo: KuboServer;
  let dir: string;

  beforeAll(async () => {
    kubo = await startKuboServer();
    dir = mkdtempSync(join(tmpdir(), "pin-test-"));
  });
  afterAll(async () => {
    await kubo.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    kubo.mode = "up";
    kubo.downStyle = "http-503";
  });

  it("adds and pins the bytes and returns the gateway link", async () => {
    const png = makePng(40, 30, 5);
    const pinner = createIpfsPinner({ apiUrl: kubo.apiUrl, gatewayUrl: "https://ipfs.io/ipfs/" });
    const before = kubo.requests.length;
    const result = await pinner.pin(png);

    const expected = ipfsCidV0(png, dir);
    expect(result).toEqual({ cid: expected, url: `https://ipfs.io/ipfs/${expected}` });
    expect(kubo.pins.has(expected)).toBe(true);
    expect(Buffer.from(await kubo.cat(expected)).equals(Buffer.from(png))).toBe(true);
    // One RPC: add pins by itself.
    const calls = kubo.requests.slice(before);
    expect(calls.map((r) => r.path)).toEqual(["/api/v0/add"]);
    expect(calls[0]?.query.get("pin")).toBe("true");
    expect(calls[0]?.query.get("cid-version")).toBe("0");
  });

  it("sends credentials in the API URL as Basic auth, not in the URL", async () => {
    const url = new URL(kubo.apiUrl);
    url.username = "user";
    url.password = "p@ss";
    const pinner = createIpfsPinner({ apiUrl: url.toString(), gatewayUrl: "https://ipfs.io" });
    const before = kubo.requests.length;
    await pinner.pin(new Uint8Array([1, 2, 3]));
    const auth = kubo.requests[before]?.headers.authorization;
    expect(auth).toBe(`Basic ${Buffer.from("user:p@ss").toString("base64")}`);
  });

  it("maps a node behind a proxy that answers 503 to 'unreachable'", async () => {
    kubo.mode = "down";
    const pinner = createIpfsPinner({ apiUrl: kubo.apiUrl, gatewayUrl: "https://ipfs.io" });
    const err = await pinError(pinner.pin(new Uint8Array([1])));
    expect(err.reason).toBe("unreachable");
    expect(err.message).not.toContain(kubo.apiUrl);
  });

  it("maps a dropped connection to 'unreachable'", async () => {
    kubo.mode = "down";
    kubo.downStyle = "reset";
    const pinner = createIpfsPinner({ apiUrl: kubo.apiUrl, gatewayUrl: "https://ipfs.io" });
    expect((await pinError(pinner.pin(new Uint8Array([1])))).reason).toBe("unreachable");
  });

  it("maps a refused connection to 'unreachable'", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const pinner = createIpfsPinner({ apiUrl: `http://127.0.0.1:${port}`, gatewayUrl: "https://ipfs.io" });
    const err = await pinError(pinner.pin(new Uint8Array([1])));
    expect(err.reason).toBe("unreachable");
    expect(err.message).toContain("ECONNREFUSED");
  });

  it("gives up after timeoutMs on a slow node", async () => {
    kubo.mode = "slow";
    kubo.slowMs = 5_000;
    const pinner = createIpfsPinner({ apiUrl: kubo.apiUrl, gatewayUrl: "https://ipfs.io", timeoutMs: 150 });
    const err = await pinError(pinner.pin(new Uint8Array([1])));
    expect(err.reason).toBe("timeout");
    expect(kubo.requests.at(-1)?.query.get("timeout")).toBe("150ms");
  });

  it("stops when the caller aborts, with the caller's reason", async () => {
    kubo.mode = "slow";
    kubo.slowMs = 5_000;
    const pinner = createIpfsPinner({ apiUrl: kubo.apiUrl, gatewayUrl: "https://ipfs.io" });
    const controller = new AbortController();
    const reason = new Error("user pressed stop");
    setTimeout(() => controller.abort(reason), 50);
    await expect(pinner.pin(new Uint8Array([1]), controller.signal)).rejects.toBe(reason);

    const already = AbortSignal.abort(reason);
    const before = kubo.requests.length;
    await expect(pinner.pin(new Uint8Array([1]), already)).rejects.toBe(reason);
    expect(kubo.requests.length).toBe(before);
  });

  it("maps an error answer from Kubo to 'rejected' with Kubo's message", async () => {
    // A node that refuses every add, as Kubo does e.g. when its repo is full.
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(500, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ Message: "blockstore: repo is full", Code: 0, Type: "error" }) + "\n");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const pinner = createIpfsPinner({ apiUrl: `http://127.0.0.1:${port}`, gatewayUrl: "https://ipfs.io" });
      const err = await pinError(pinner.pin(new Uint8Array([1])));
      expect(err.reason).toBe("rejected");
      expect(err.message).toContain("repo is full");
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("rejects invalid URLs up front", () => {
    expect(() => createIpfsPinner({ apiUrl: "not a url", gatewayUrl: "https://ipfs.io" })).toThrow(TypeError);
    expect(() => createIpfsPinner({ apiUrl: kubo.apiUrl, gatewayUrl: "ipfs.io" })).toThrow(TypeError);
    expect(() => createIpfsPinner({ apiUrl: kubo.apiUrl, gatewayUrl: "https://ipfs.io", timeoutMs: 0 })).toThrow(RangeError);
  });
});

describe("gatewayPrefix", () => {
  it.each([
    ["https://ipfs.io/ipfs/", "https://ipfs.io/ipfs/"],
    ["https://ipfs.io", "https://ipfs.io/ipfs/"],
    ["https://ipfs.io/", "https://ipfs.io/ipfs/"],
    ["https://ipfs.io/ipfs", "https://ipfs.io/ipfs/"],
    ["https://gw.example.org/custom/path", "https://gw.example.org/custom/path/"],
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080/ipfs/"],
  ])("%s → %s", (input, prefix) => {
    expect(gatewayPrefix(input)).toBe(prefix);
  });
});
