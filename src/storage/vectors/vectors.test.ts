/**
 * One suite for every vector backend: real SQLite (with sqlite-vec, and without it), the in-process one, and Redis
 * and PostgreSQL when REDIS_URL and DATABASE_URL are set. Vectors are the OpenAI test server's deterministic
 * embeddings (hashed bags of words), so the chunk sharing a question's rare words is provably the nearest.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosineSimilarity, embedText } from "../../../test/servers/openai.js";
import { openStore } from "../store.js";
import { openVectorStore } from "./open.js";
import { MemoryVectorStore } from "./memory.js";
import { SqliteVectorStore } from "./sqlite.js";
import type { VectorChunk, VectorStore } from "./vector-store.js";

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vectors-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vector = (text: string) => new Float32Array(embedText(text));
const TEXTS = [
  "The trust was founded in 1844 to keep the lamp burning on the reef.",
  "Visitor income rose to 48,200 pounds; the copper lantern restoration cost 12,750 pounds.",
  "Puffins nest on the basalt ledges below the tower from April to August.",
  "Grey seals haul out on the western skerry at low tide.",
];
const chunks = (texts: string[], label = "p.") =>
  texts.map((text, index): VectorChunk => ({ index, text, location: `${label} ${index + 1}`, tokens: 20 + index, vector: vector(text) }));

type Backend = { name: string; kind: string; open: (clock?: { now: number }) => Promise<VectorStore> };
const backends: Backend[] = [
  { name: "memory", kind: "memory", open: (clock) => Promise.resolve(new MemoryVectorStore({ now: () => clock?.now ?? Date.now() })) },
  {
    name: "sqlite with sqlite-vec",
    kind: "sqlite-vec",
    open: (clock) => openVectorStore({ kind: "sqlite", file: path.join(dir, `${randomUUID()}.sqlite`) }, { now: () => clock?.now ?? Date.now() }),
  },
  {
    name: "sqlite without the extension",
    kind: "sqlite",
    open: async (clock) => {
      const store = await SqliteVectorStore.open(path.join(dir, `${randomUUID()}.sqlite`), { namespace: "t", now: () => clock?.now ?? Date.now() });
      // As on a platform sqlite-vec has no binary for: the same tables, searched in this process.
      store.kind = "sqlite";
      return store;
    },
  },
  ...(REDIS_URL
    ? [{ name: "redis", kind: "redis", open: (clock?: { now: number }) => openVectorStore({ kind: "redis", url: REDIS_URL }, { namespace: `t-${randomUUID()}`, now: () => clock?.now ?? Date.now() }) }]
    : []),
  ...(DATABASE_URL
    ? [
        {
          name: "postgres",
          kind: "postgres",
          open: (clock?: { now: number }) => openVectorStore({ kind: "postgres", url: DATABASE_URL }, { namespace: `t-${randomUUID()}`, now: () => clock?.now ?? Date.now() }),
        },
      ]
    : []),
];

describe.each(backends)("vector store: $name", ({ kind, open }) => {
  it(`is ${kind}`, async () => {
    const store = await open();
    // Postgres with pgvector installed reports "pgvector"; this machine's has none.
    expect(kind === "postgres" ? ["postgres", "pgvector"] : [kind]).toContain(store.kind);
    await store.close();
  });

  it("finds the chunk that shares the question's rare words, nearest first, with exact similarities", async () => {
    const store = await open();
    try {
      await store.put("chat1", "report", chunks(TEXTS));
      expect(await store.count("report")).toBe(4);
      const question = "When do puffins nest on the ledges?";
      const hits = await store.search("chat1", ["report"], vector(question), 2);
      expect(hits[0]).toMatchObject({ docId: "report", index: 2, text: TEXTS[2], location: "p. 3", tokens: 22 });
      expect(hits[0]!.similarity).toBeCloseTo(cosineSimilarity(embedText(question), embedText(TEXTS[2]!)), 4);
      expect(hits).toHaveLength(2);
      expect(hits[0]!.similarity).toBeGreaterThan(hits[1]!.similarity);
    } finally {
      await store.close();
    }
  });

  it("searches only the named documents of the scope, and replaces a document's chunks on put", async () => {
    const store = await open();
    try {
      await store.put("chat1", "a", chunks(TEXTS.slice(0, 2)));
      await store.put("chat1", "b", chunks(TEXTS.slice(2)));
      await store.put("chat2", "c", chunks(["Puffins puffins puffins on the ledges of another chat."]));
      const q = vector("puffins ledges");
      expect((await store.search("chat1", ["a"], q, 5)).map((h) => h.docId)).toEqual(["a", "a"]);
      expect((await store.search("chat1", ["a", "b"], q, 1))[0]).toMatchObject({ docId: "b", index: 0 });
      // Another chat's document is not found by naming it from this chat.
      expect(await store.search("chat1", ["c"], q, 5)).toEqual([]);
      expect((await store.search("chat2", ["c"], q, 5))[0]!.docId).toBe("c");
      await store.put("chat1", "b", chunks(["Only one chunk now."]));
      expect(await store.count("b")).toBe(1);
      expect(await store.search("chat1", ["b"], q, 5)).toHaveLength(1);
      await store.remove("a");
      expect(await store.count("a")).toBe(0);
      expect(await store.search("chat1", ["a"], q, 5)).toEqual([]);
      expect(await store.search("chat1", [], q, 5)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("forgets documents after their expiry unless kept", async () => {
    const clock = { now: Date.now() };
    const store = await open(clock);
    try {
      await store.put("chat1", "brief", chunks(TEXTS), clock.now + 60_000);
      await store.put("chat1", "kept", chunks(TEXTS), clock.now + 60_000);
      await store.setExpiry("kept", undefined);
      expect(await store.count("brief")).toBe(4);
      if (kind === "redis") {
        // Redis expires keys on its own clock: ask it to expire now.
        await store.setExpiry("brief", Date.now() - 1);
      } else clock.now += 61_000;
      expect(await store.count("brief")).toBe(0);
      expect(await store.search("chat1", ["brief"], vector("puffins"), 3)).toEqual([]);
      expect(await store.count("kept")).toBe(4);
      await store.put("chat1", "other", chunks(TEXTS.slice(0, 1)));
      expect(await store.count("brief")).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("keeps its vectors across a reopen (sqlite, redis, postgres)", async () => {
    if (kind === "memory") return;
    const file = path.join(dir, `${randomUUID()}.sqlite`);
    const namespace = `t-${randomUUID()}`;
    const location =
      kind === "redis" ? { kind: "redis" as const, url: REDIS_URL! } : kind === "postgres" ? { kind: "postgres" as const, url: DATABASE_URL! } : { kind: "sqlite" as const, file };
    const first = await openVectorStore(location, { namespace });
    await first.put("chat", "doc", chunks(TEXTS));
    await first.close();
    const second = await openVectorStore(location, { namespace });
    try {
      expect((await second.search("chat", ["doc"], vector("grey seals skerry"), 1))[0]).toMatchObject({ index: 3 });
    } finally {
      await second.remove("doc");
      await second.close();
    }
  });
});

describe("sqlite vectors beside the history", () => {
  it("live in the history's own database file, next to keyv's table", async () => {
    const file = path.join(dir, "bot.sqlite");
    const history = await openStore(`sqlite://${file}`);
    const vectors = await openVectorStore({ kind: "sqlite", file });
    try {
      await history.keyv.set("history:1", { version: 1, turns: [] });
      await vectors.put("1", "doc", chunks(TEXTS));
      expect(vectors.kind).toBe("sqlite-vec");
      const sqlite3 = (await import("sqlite3")).default;
      const db = new sqlite3.Database(file);
      const tables = await new Promise<string[]>((resolve, reject) =>
        db.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", (err, rows: Array<{ name: string }>) => (err ? reject(err) : resolve(rows.map((r) => r.name)))),
      );
      db.close();
      expect(tables).toEqual(expect.arrayContaining(["keyv", "knowledge_docs", "knowledge_chunks", "knowledge_vec_1536"]));
      expect(await history.keyv.get("history:1")).toEqual({ version: 1, turns: [] });
    } finally {
      await vectors.close();
      await history.close();
    }
  });

  it("ranks exactly among many chunks: the two-step search finds what exact search finds", async () => {
    const store = await openVectorStore({ kind: "sqlite", file: path.join(dir, `${randomUUID()}.sqlite`) });
    const exact = new MemoryVectorStore();
    try {
      const texts = Array.from({ length: 600 }, (_, i) => `Entry ${i}: word${i % 97} term${i % 89} topic${i % 13} and some shared filler about records.`);
      await store.put("c", "many", chunks(texts));
      await exact.put("c", "many", chunks(texts));
      for (const question of ["word5 term7", "topic3 records", "word96 term88 topic12"]) {
        const got = await store.search("c", ["many"], vector(question), 5);
        const want = await exact.search("c", ["many"], vector(question), 5);
        expect(got.map((h) => h.index)).toEqual(want.map((h) => h.index));
      }
    } finally {
      await store.close();
    }
  });
});
