import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreConfigError, StoreConnectionError, openStore, parseStoreUrl, redactStoreUrl, type Store } from "./store.js";

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;
const STORE_MODULE = fileURLToPath(new URL("./store.ts", import.meta.url));

const uniqueNamespace = () => `test-store-${process.pid}-${randomUUID()}`;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "store-test-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function expectRejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error("expected a rejection");
}

/** Runs a script that opens a store, writes, closes, and must then exit on its own. */
async function exitsAfterClose(url: string): Promise<{ code: number | null; output: string }> {
  const script = path.join(tmp, `close-${randomUUID()}.mts`);
  await writeFile(
    script,
    `import { openStore } from ${JSON.stringify(STORE_MODULE)};
const store = await openStore(${JSON.stringify(url)}, { namespace: ${JSON.stringify(uniqueNamespace())} });
await store.keyv.set("k", { n: 1 });
if ((await store.keyv.get("k")).n !== 1) process.exit(3);
await store.keyv.clear();
await store.close();
console.log("closed");
`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: process.cwd(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    });
  });
}

describe("STORE_URL parsing", () => {
  it("resolves relative and absolute sqlite paths", () => {
    expect(parseStoreUrl("sqlite://./data/bot.sqlite")).toEqual({ kind: "sqlite", file: path.resolve("data/bot.sqlite") });
    expect(parseStoreUrl("sqlite://data/bot.sqlite")).toEqual({ kind: "sqlite", file: path.resolve("data/bot.sqlite") });
    expect(parseStoreUrl("sqlite:///var/lib/bot/bot.sqlite")).toEqual({ kind: "sqlite", file: "/var/lib/bot/bot.sqlite" });
    expect(parseStoreUrl(" SQLITE://x.db ")).toEqual({ kind: "sqlite", file: path.resolve("x.db") });
    expect(parseStoreUrl("memory://")).toEqual({ kind: "memory" });
    expect(parseStoreUrl("rediss://h:6380").kind).toBe("redis");
    expect(parseStoreUrl("postgresql://u@h/db").kind).toBe("postgres");
  });

  it("takes a Redis key prefix from ?prefix= and leaves it out of the URL the client gets", () => {
    expect(parseStoreUrl("redis://h:6379/2?prefix=bot-a")).toEqual({ kind: "redis", url: "redis://h:6379/2", prefix: "bot-a" });
    expect(() => parseStoreUrl("redis://h:6379?prefix=a%20b")).toThrow(StoreConfigError);
  });

  it("rejects an unknown scheme with one line naming STORE_URL and the accepted schemes", async () => {
    const error = await expectRejection(openStore("mongodb://user:hunter2@db.example:27017/bot"));
    expect(error).toBeInstanceOf(StoreConfigError);
    expect(error.name).toBe("StoreConfigError");
    expect(error.message).not.toContain("\n");
    expect(error.message).not.toContain("hunter2");
    expect(error.message).toContain("STORE_URL");
    expect(error.message).toContain('"mongodb://"');
    for (const scheme of ["sqlite://", "redis://", "rediss://", "postgres://", "postgresql://", "memory://"]) {
      expect(error.message).toContain(scheme);
    }
  });

  it("rejects malformed URLs", async () => {
    for (const url of ["./data/bot.sqlite", "", "sqlite://", "redis://", "redis://:pw@[bad", "postgres://h:notaport/db"]) {
      const error = await expectRejection(openStore(url));
      expect(error, url).toBeInstanceOf(StoreConfigError);
      expect(error.message).toContain("STORE_URL");
      expect(error.message).not.toContain("pw@");
    }
  });

  it("redacts credentials and query strings", () => {
    expect(redactStoreUrl("redis://user:secret@host:6379/2")).toBe("redis://***@host:6379/2");
    expect(redactStoreUrl("postgres://u:p@h/db?sslmode=require&password=x")).toBe("postgres://***@h/db");
    expect(redactStoreUrl("redis://host")).toBe("redis://host");
  });
});

describe("memory store", () => {
  it("stores JSON values under its namespace", async () => {
    const store = await openStore("memory://", { namespace: uniqueNamespace() });
    await store.keyv.set("a", { list: [1, 2], text: ":colon first" });
    expect(await store.keyv.get("a")).toEqual({ list: [1, 2], text: ":colon first" });
    await store.close();
    await store.close();
  });
});

describe("sqlite store", () => {
  it("creates the directory, uses WAL, and keeps data across reopening", async () => {
    const file = path.join(tmp, "nested", "deeper", "bot.sqlite");
    const namespace = uniqueNamespace();
    const first = await openStore(`sqlite://${file}`, { namespace });
    expect(first.kind).toBe("sqlite");
    expect(first.displayUrl).toBe(`sqlite://${file}`);
    await first.keyv.set("greeting", { text: "你好 👋" });
    expect(existsSync(`${file}-wal`)).toBe(true);
    await first.close();
    await first.close();

    const second = await openStore(`sqlite://${file}`, { namespace });
    expect(await second.keyv.get("greeting")).toEqual({ text: "你好 👋" });
    const other = await openStore(`sqlite://${file}`, { namespace: uniqueNamespace() });
    expect(await other.keyv.get("greeting")).toBeUndefined();
    await other.close();
    await second.keyv.clear();
    expect(await second.keyv.get("greeting")).toBeUndefined();
    await second.close();
  });

  it("lets two stores on one file write at the same time", async () => {
    const file = path.join(tmp, "shared.sqlite");
    const namespace = uniqueNamespace();
    const [a, b] = await Promise.all([openStore(`sqlite://${file}`, { namespace }), openStore(`sqlite://${file}`, { namespace })]);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).keyv.set(`k${i}`, i)),
    );
    const values = await Promise.all(Array.from({ length: 50 }, (_, i) => a.keyv.get(`k${i}`)));
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await Promise.all([a.close(), b.close()]);
  });

  it("fails on open with a clear error when the file cannot be created", async () => {
    const blocker = path.join(tmp, "not-a-directory");
    await writeFile(blocker, "x");
    const error = await expectRejection(openStore(`sqlite://${blocker}/bot.sqlite`));
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect(error.message).toMatch(/^cannot open sqlite database at .*not-a-directory\/bot\.sqlite: (ENOTDIR|EEXIST)$/);
  });

  it("lets the process exit after close", async () => {
    const result = await exitsAfterClose(`sqlite://${path.join(tmp, "exit.sqlite")}`);
    expect(result.output).toContain("closed");
    expect(result.code).toBe(0);
  });
});

describe("connection failures", () => {
  it("reports a refused redis connection on open, without the password", async () => {
    // No retry loop before the first connection: this rejects at once instead of at the test timeout.
    const error = await expectRejection(openStore("redis://bot:s3cret@127.0.0.1:1/0"));
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect(error.name).toBe("StoreConnectionError");
    expect(error.message).toBe("cannot reach redis at redis://***@127.0.0.1:1/0: ECONNREFUSED");
    expect(String(error)).toBe("StoreConnectionError: cannot reach redis at redis://***@127.0.0.1:1/0: ECONNREFUSED");
  });

  it("reports a refused postgres connection on open, without the password", async () => {
    const error = await expectRejection(openStore("postgres://bot:s3cret@127.0.0.1:1/bot?sslmode=disable"));
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect(error.message).toBe("cannot reach postgres at postgres://***@127.0.0.1:1/bot: ECONNREFUSED");
  });
});

// The variable in the title: CI checks that every test naming it ran (test/ci/store-tests-ran.ts).
describe.skipIf(!REDIS_URL)("redis store (REDIS_URL)", () => {
  const url = REDIS_URL ?? "";

  it("round-trips values under its namespace and clears only that namespace", async () => {
    const a = await openStore(url, { namespace: uniqueNamespace() });
    const b = await openStore(url, { namespace: uniqueNamespace() });
    expect(a.kind).toBe("redis");
    await a.keyv.set("k", { text: "a" });
    await b.keyv.set("k", { text: "b" });
    await a.keyv.clear();
    expect(await a.keyv.get("k")).toBeUndefined();
    expect(await b.keyv.get("k")).toEqual({ text: "b" });
    await b.keyv.clear();
    await Promise.all([a.close(), b.close()]);
  });

  it("survives a killed connection: reports it and reconnects", async () => {
    const errors: Error[] = [];
    const store: Store = await openStore(url, { namespace: uniqueNamespace(), onError: (error) => errors.push(error) });
    const admin = await openStore(url, { namespace: uniqueNamespace() });
    type RedisLike = { sendCommand(args: string[]): Promise<unknown> };
    const client = (store.keyv.store as { client: RedisLike }).client;
    const adminClient = (admin.keyv.store as { client: RedisLike }).client;
    const id = String(await client.sendCommand(["CLIENT", "ID"]));
    await adminClient.sendCommand(["CLIENT", "KILL", "ID", id]);
    await expect.poll(() => errors.length, { timeout: 5_000 }).toBeGreaterThan(0);
    await store.keyv.set("after", 1);
    expect(await store.keyv.get("after")).toBe(1);
    await store.keyv.clear();
    await Promise.all([store.close(), admin.close()]);
  });

  it("lets the process exit after close", async () => {
    const result = await exitsAfterClose(url);
    expect(result.output).toContain("closed");
    expect(result.code).toBe(0);
  });
});

describe.skipIf(!DATABASE_URL)("postgres store (DATABASE_URL)", () => {
  const url = DATABASE_URL ?? "";

  it("round-trips values; two stores in one process close independently", async () => {
    const a = await openStore(url, { namespace: uniqueNamespace() });
    const b = await openStore(url, { namespace: uniqueNamespace() });
    expect(a.kind).toBe("postgres");
    await a.keyv.set("k", { text: "a" });
    await b.keyv.set("k", { text: "b" });
    await a.keyv.clear();
    await a.close();
    // With @keyv/postgres's shared pool, closing a would have ended b's pool too.
    expect(await b.keyv.get("k")).toEqual({ text: "b" });
    await b.keyv.clear();
    await b.close();
  });

  it("survives Postgres terminating its connection: reports it and reconnects", async () => {
    const errors: Error[] = [];
    const store = await openStore(url, { namespace: uniqueNamespace(), onError: (error) => errors.push(error) });
    const admin = await openStore(url, { namespace: uniqueNamespace() });
    type Queryable = { query(sql: string, values?: unknown): Promise<Array<Record<string, unknown>>> };
    const adapter = store.keyv.store as Queryable;
    const [row] = await adapter.query("SELECT pg_backend_pid() AS pid");
    await (admin.keyv.store as Queryable).query("SELECT pg_terminate_backend($1)", [row?.pid]);
    await expect.poll(() => errors.length, { timeout: 5_000 }).toBeGreaterThan(0);
    await store.keyv.set("after", 1);
    expect(await store.keyv.get("after")).toBe(1);
    await store.keyv.clear();
    await Promise.all([store.close(), admin.close()]);
  });

  it("lets the process exit after close", async () => {
    const result = await exitsAfterClose(url);
    expect(result.output).toContain("closed");
    expect(result.code).toBe(0);
  });
});
