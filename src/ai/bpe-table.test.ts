import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tiktoken } from "js-tiktoken/lite";
import r50kRanks from "js-tiktoken/ranks/r50k_base";
import o200k from "gpt-tokenizer/encoding/o200k_base";
import { BpeTable, loadTable, loadTableSync, tableFile, writeTableFiles, type BpeSource } from "./bpe-table.js";
import { BpeCounter } from "./bpe-counter.js";
import { rng } from "../../test/helpers/random.js";

const source = (o200k as unknown as { bytePairEncodingCoreProcessor: BpeSource }).bytePairEncodingCoreProcessor;
const utf8 = new TextEncoder();
/** Byte-for-byte equality (vitest's deep equality walks megabytes one element at a time). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

describe("BpeTable", () => {
  const table = BpeTable.fromSource("o200k_base", source);

  it("finds every token of the vocabulary by its bytes and gives the bytes back", () => {
    const decoder = source.bytePairRankDecoder;
    let checked = 0;
    const wrong: number[] = [];
    for (let rank = 0; rank < decoder.length; rank++) {
      const value = decoder[rank];
      if (value === undefined) continue;
      const bytes = typeof value === "string" ? utf8.encode(value) : Uint8Array.from(value);
      const back = table.tokenBytes(rank);
      if (table.rankOf(bytes, 0, bytes.length) !== rank || !back || !same(back, bytes)) wrong.push(rank);
      checked++;
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(199_000);
  });

  it("answers -1 for bytes that are no token, and looks up a slice of a longer buffer", () => {
    const bytes = utf8.encode("xx hello world zz");
    expect(table.rankOf(bytes, 2, 8)).toBe(table.rankOf(utf8.encode(" hello"), 0, 6));
    expect(table.rankOf(utf8.encode(" hello"), 0, 6)).toBeGreaterThanOrEqual(0);
    expect(table.rankOf(utf8.encode("qzxqzxqzxqzx"), 0, 12)).toBe(-1);
    expect(table.rankOf(new Uint8Array(0), 0, 0)).toBe(-1);
  });

  it("finds the token made of two tokens' bytes (the merge lookup)", () => {
    const rank = (text: string) => table.rankOf(utf8.encode(text), 0, utf8.encode(text).length);
    expect(table.rankOfPair(rank("hel"), rank("lo"))).toBe(rank("hello"));
    expect(table.rankOfPair(rank(" wor"), rank("ld"))).toBe(rank(" world"));
    // "看" is three bytes: e7 9c 8b; two of them are a token in o200k.
    const parts = [...utf8.encode("看")].map((b) => table.rankOf(Uint8Array.of(b), 0, 1));
    expect(parts.every((r) => r >= 0)).toBe(true);
    expect(table.rankOfPair(rank("qzxq"), rank("zxqz"))).toBe(-1);
  });

  it("decodes special tokens and nothing outside the vocabulary", () => {
    expect(new TextDecoder().decode(table.tokenBytes(199_999))).toBe("<|endoftext|>");
    expect(table.specialTokens.get("<|endoftext|>")).toBe(199_999);
    expect(table.tokenBytes(-1)).toBeUndefined();
    expect(table.tokenBytes(1.5)).toBeUndefined();
    expect(table.tokenBytes(10_000_000)).toBeUndefined();
  });

  it("round-trips through its file form, byte for byte and count for count", () => {
    const data = table.serialize();
    const read = BpeTable.deserialize(data);
    expect(same(read.serialize(), data)).toBe(true);
    expect(read.size).toBe(table.size);
    expect(read.pattern.source).toBe(table.pattern.source);
    // At most a fifth of the size of gpt-tokenizer's JavaScript module for the same encoding.
    expect(read.byteLength).toBeLessThan(6_000_000);
    // Read from an unaligned copy (as a pooled Buffer may be).
    const unaligned = new Uint8Array(data.length + 1).subarray(1);
    unaligned.set(data);
    const fromUnaligned = BpeTable.deserialize(unaligned);
    expect(same(fromUnaligned.serialize(), data)).toBe(true);
    const next = rng(5);
    const reference = new BpeCounter(table);
    const counter = new BpeCounter(fromUnaligned);
    for (let i = 0; i < 200; i++) {
      let text = "";
      for (let j = 0; j < 40; j++) text += String.fromCodePoint(next() < 0.5 ? 0x20 + Math.floor(next() * 95) : 0x4e00 + Math.floor(next() * 0x5000));
      expect(counter.encode(text)).toEqual(reference.encode(text));
    }
  });

  it("refuses a file that is not a table, or a truncated one, with a clear error", () => {
    const data = table.serialize();
    expect(() => BpeTable.deserialize(utf8.encode("not a table at all"))).toThrow(/not a BPE table file/);
    expect(() => BpeTable.deserialize(data.subarray(0, data.length - 1))).toThrow(/is \d+ bytes, expected \d+/);
    const otherVersion = data.slice();
    new DataView(otherVersion.buffer).setUint32(4, 99, true);
    expect(() => BpeTable.deserialize(otherVersion)).toThrow(/format 99/);
  });
});

describe("table files", () => {
  let dir: URL;
  beforeAll(async () => {
    dir = pathToFileURL(`${await mkdtemp(join(tmpdir(), "bpe-tables-"))}/`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the tables the build ships and reads them back, synchronously or not", async () => {
    const written = await writeTableFiles(["r50k_base"], dir);
    expect(written.map((u) => u.href)).toEqual([tableFile("r50k_base", dir).href]);
    const sync = loadTableSync("r50k_base", dir);
    const async = await loadTable("r50k_base", dir);
    expect(same(sync.serialize(), await readFile(tableFile("r50k_base", dir)))).toBe(true);
    expect(same(async.serialize(), sync.serialize())).toBe(true);
    const reference = new Tiktoken(r50kRanks);
    const text = "看了山和海，也看了人山和人海。 Hello <|endoftext|> world!";
    expect(new BpeCounter(async).encode(text)).toEqual(reference.encode(text, [], []));
  });

  it("builds the table from gpt-tokenizer when there is no file", async () => {
    const empty = new URL("empty/", dir);
    const table = await loadTable("r50k_base", empty);
    expect(new BpeCounter(table).count("看了山和海，也看了人山和人海。")).toBe(32);
    expect(same(loadTableSync("r50k_base", empty).serialize(), table.serialize())).toBe(true);
  });

  it("fails loudly on a damaged file instead of counting wrong", async () => {
    const broken = new URL("broken/", dir);
    await writeTableFiles(["r50k_base"], broken);
    const file = tableFile("r50k_base", broken);
    const data = await readFile(file);
    await writeFile(file, data.subarray(0, 1000));
    await expect(loadTable("r50k_base", broken)).rejects.toThrow(/expected/);
    expect(() => loadTableSync("r50k_base", broken)).toThrow(/expected/);
  });

  it("rejects an unknown encoding name", async () => {
    await expect(loadTable("gpt5_base" as "o200k_base", dir)).rejects.toThrow(/unknown encoding "gpt5_base"/);
  });
});
