import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "kubo-rpc-client";
import { CID } from "multiformats/cid";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makePng, seededBytes } from "../fixtures/images.js";
import { startKuboServer, type KuboServer } from "./kubo.js";

const CHUNK = 262_144;

/** Runs Debian's `ipfs_cid` (package ipfs-cid): the CIDs Kubo gives the file with default settings. */
function ipfsCid(bytes: Uint8Array, dir: string): { CIDv0: string; CIDv1: string } {
  const file = join(dir, `f-${bytes.length}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, bytes);
  const run = spawnSync("ipfs_cid", [file], { encoding: "utf8" });
  if (run.error !== undefined) {
    const missing = (run.error as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(
      missing
        ? "the `ipfs_cid` binary is not installed: `apt-get install ipfs-cid` (Debian) — the CID checks need it"
        : `ipfs_cid failed to start: ${run.error.message}`,
    );
  }
  if (run.status !== 0) throw new Error(`ipfs_cid exited with ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as { CIDv0: string; CIDv1: string };
}

// --- an independent construction of Kubo's `--cid-version=1` DAG (raw leaves) for files of at most 174 chunks ---
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const field = (no: number, bytes: Uint8Array | number[]) => [(no << 3) | 2, ...varint(bytes.length), ...bytes];
const varintField = (no: number, value: number) => [no << 3, ...varint(value)];
const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());
const cidV1 = (codec: number, bytes: Uint8Array) =>
  CID.createV1(codec, { code: 0x12, size: 32, digest: sha256(bytes), bytes: new Uint8Array([0x12, 32, ...sha256(bytes)]) });

function expectedRawLeavesCid(bytes: Uint8Array): string {
  if (bytes.length <= CHUNK) return cidV1(0x55, bytes).toString();
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK) chunks.push(bytes.subarray(at, at + CHUNK));
  if (chunks.length > 174) throw new Error("helper covers one level only");
  const links = chunks.flatMap((chunk) =>
    field(2, [...field(1, cidV1(0x55, chunk).bytes), ...field(2, []), ...varintField(3, chunk.length)]),
  );
  const unixfs = [...varintField(1, 2), ...varintField(3, bytes.length), ...chunks.flatMap((c) => varintField(4, c.length))];
  return cidV1(0x70, new Uint8Array([...links, ...field(1, unixfs)])).toString();
}

const files: [string, Uint8Array][] = [
  ["empty", new Uint8Array(0)],
  ["1 byte", new Uint8Array([0x61])],
  ["small PNG", makePng(16, 9, 1)],
  ["exactly 262144 bytes", seededBytes(CHUNK, 7)],
  ["262145 bytes", seededBytes(CHUNK + 1, 8)],
  ["~1.2 MB random", seededBytes(1_200_000, 42)],
];

describe("Kubo test server", () => {
  let kubo: KuboServer;
  let dir: string;

  beforeAll(async () => {
    kubo = await startKuboServer();
    dir = mkdtempSync(join(tmpdir(), "kubo-test-"));
  });
  afterAll(async () => {
    await kubo.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    kubo.mode = "up";
    kubo.downStyle = "http-503";
  });

  describe.each(files)("%s", (_name, bytes) => {
    it("gives the CIDv0 Kubo gives, pins it and cats the bytes back", async () => {
      const reference = ipfsCid(bytes, dir);
      const client = create({ url: kubo.apiUrl });
      const added = await client.add(bytes, { pin: true, cidVersion: 0 });
      expect(added.cid.toString()).toBe(reference.CIDv0);
      // ipfs_cid's CIDv1 is the same DAG addressed as v1.
      expect(added.cid.toV1().toString()).toBe(reference.CIDv1);
      expect(kubo.pins.has(reference.CIDv0)).toBe(true);
      const chunks: Uint8Array[] = [];
      for await (const chunk of client.cat(added.cid)) chunks.push(chunk);
      expect(Buffer.concat(chunks).equals(Buffer.from(bytes))).toBe(true);
      expect(added.size).toBeGreaterThanOrEqual(bytes.length);
    });

    it("with cid-version=1 builds Kubo's raw-leaves DAG", async () => {
      const client = create({ url: kubo.apiUrl });
      const added = await client.add(bytes, { cidVersion: 1 });
      expect(added.cid.toString()).toBe(expectedRawLeavesCid(bytes));
      expect(Buffer.from(await kubo.cat(added.cid.toString())).equals(Buffer.from(bytes))).toBe(true);
    });
  });

  it("answers add with Kubo's NDJSON line, naming an unnamed file by its hash", async () => {
    const boundary = "----test-boundary";
    const content = Buffer.from("hello kubo\n");
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename=""\r\n`),
      Buffer.from("Content-Type: application/octet-stream\r\n\r\n"),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${kubo.apiUrl}/api/v0/add?pin=false`, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      body,
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.endsWith("\n")).toBe(true);
    const line = JSON.parse(text) as Record<string, string>;
    expect(Object.keys(line)).toEqual(["Name", "Hash", "Size"]);
    expect(line.Hash).toBe(ipfsCid(content, dir).CIDv0);
    expect(line.Name).toBe(line.Hash);
    // One block: the cumulative size is that block's length.
    const blockChunks: Uint8Array[] = [];
    for await (const chunk of kubo.blockstore.get(CID.parse(line.Hash!))) blockChunks.push(chunk);
    const block = Buffer.concat(blockChunks);
    expect(line.Size).toBe(String(block.length));
    expect(kubo.pins.has(line.Hash!)).toBe(false);
  });

  it("keeps a named file's name and logs the request", async () => {
    const boundary = "b";
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cat%20pic.png"\r\nContent-Type: application/octet-stream\r\n\r\nxyz\r\n--${boundary}--\r\n`;
    const before = kubo.requests.length;
    const res = await fetch(`${kubo.apiUrl}/api/v0/add?cid-version=0`, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      body,
    });
    const line = JSON.parse(await res.text()) as Record<string, string>;
    expect(line.Name).toBe("cat pic.png");
    expect(kubo.pins.has(line.Hash!)).toBe(true); // pin defaults to true, as in Kubo
    const logged = kubo.requests[before];
    expect(logged?.path).toBe("/api/v0/add");
    expect(logged?.query.get("cid-version")).toBe("0");
  });

  it("pins existing content with pin/add and refuses unknown content", async () => {
    const client = create({ url: kubo.apiUrl });
    const added = await client.add(new Uint8Array([1, 2, 3, 4]), { pin: false });
    expect(kubo.pins.has(added.cid.toString())).toBe(false);
    const pinned = await client.pin.add(added.cid);
    expect(pinned.toString()).toBe(added.cid.toString());
    expect(kubo.pins.has(added.cid.toString())).toBe(true);

    const unknown = ipfsCid(new Uint8Array([9, 9, 9, 9, 9]), dir).CIDv0;
    const res = await fetch(`${kubo.apiUrl}/api/v0/pin/add?arg=${unknown}`, { method: "POST" });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ Code: 0, Type: "error" });
  });

  it("answers bad arguments like Kubo", async () => {
    const post = (path: string) => fetch(`${kubo.apiUrl}/api/v0/${path}`, { method: "POST" });
    const badCid = await post("cat?arg=not-a-cid");
    expect(badCid.status).toBe(500);
    expect(badCid.headers.get("content-type")).toBe("application/json");
    const badCidBody = (await badCid.json()) as { Message: string; Code: number; Type: string };
    expect(badCidBody).toMatchObject({ Code: 0, Type: "error" });
    expect(badCidBody.Message).toContain("not-a-cid");

    const missing = await post("pin/add");
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ Message: 'argument "ipfs-path" is required', Code: 1, Type: "error" });

    const badVersion = await post("add?cid-version=7");
    expect(badVersion.status).toBe(500);
    expect(((await badVersion.json()) as { Message: string }).Message).toContain("CID version");

    const get = await fetch(`${kubo.apiUrl}/api/v0/version`);
    expect(get.status).toBe(405);
    await get.body?.cancel();
  });

  it("reports its version", async () => {
    const client = create({ url: kubo.apiUrl });
    expect((await client.version()).version).toBe("0.38.0");
  });

  it("when down, answers 503 like a proxy in front of a stopped node", async () => {
    kubo.mode = "down";
    const res = await fetch(`${kubo.apiUrl}/api/v0/version`, { method: "POST" });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("text/html");
    await res.body?.cancel();
    await expect(create({ url: kubo.apiUrl }).version()).rejects.toThrow();
  });

  it("when down with downStyle 'reset', drops the connection", async () => {
    kubo.mode = "down";
    kubo.downStyle = "reset";
    await expect(fetch(`${kubo.apiUrl}/api/v0/version`, { method: "POST" })).rejects.toThrow(TypeError);
  });

  it("when slow, answers only after slowMs", async () => {
    kubo.mode = "slow";
    kubo.slowMs = 400;
    await expect(
      fetch(`${kubo.apiUrl}/api/v0/version`, { method: "POST", signal: AbortSignal.timeout(50) }),
    ).rejects.toThrow(/abort|timeout/i);
    const res = await fetch(`${kubo.apiUrl}/api/v0/version`, { method: "POST" });
    expect(((await res.json()) as { Version: string }).Version).toBe("0.38.0");
  });
});
