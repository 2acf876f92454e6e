/**
 * One byte-pair encoding's vocabulary in a few flat typed arrays: every token's bytes back to back, where each token
 * starts, and an open-addressing hash table from bytes to rank. o200k_base takes 4.3 MB this way, against
 * some 70 MB for gpt-tokenizer's JavaScript module (200,000 strings, a Map over them and the module's source)
 * plus the byte-string Map the counter used to build beside it.
 *
 * The table is made from gpt-tokenizer's data (the one source of the vocabularies and pre-tokenizer patterns), once:
 * `npm run build` writes each encoding as a file next to the compiled module (see scripts/build.mjs) and the bot
 * reads the one it needs in a few milliseconds. Without the file (tests and `npm run dev` run the TypeScript
 * sources) the same table is built in memory from gpt-tokenizer, which is slower and bigger but identical.
 *
 * File layout (little-endian): "BPET", u32 format version, u32 header length, the header as JSON (name, pattern,
 * flags, special tokens, sizes), zero padding to a multiple of 4, then offsets (u32 × (size + 1)), slots
 * (i32 × 2^slotBits) and the token bytes.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { ENCODING_NAMES, type EncodingName } from "./models.js";

const MAGIC = 0x54455042; // "BPET" read as a little-endian u32
const FORMAT_VERSION = 1;
const EMPTY = -1;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Where `npm run build` puts the tables: beside this module (dist/…/encodings/). */
export const TABLES_DIR = new URL("./encodings/", import.meta.url);

/** What a table is made from: gpt-tokenizer's per-encoding data. */
export interface BpeSource {
  /** rank → the token's text, or its bytes when they are not valid UTF-8 on their own; may have holes. */
  bytePairRankDecoder: ReadonlyArray<string | ArrayLike<number> | undefined>;
  /** The encoding's pre-tokenizer. */
  tokenSplitRegex: RegExp;
  /** Special-token text → rank (only decoded: user text containing them is counted as plain text). */
  specialTokensEncoder?: ReadonlyMap<string, number>;
}

interface Header {
  name: string;
  pattern: string;
  flags: string;
  special: Array<[string, number]>;
  /** Number of ranks (the highest mergeable rank + 1); holes have no bytes. */
  size: number;
  bytesLength: number;
  slotBits: number;
}

const utf8 = new TextEncoder();

/**
 * FNV-1a over `bytes[start..end)`, continuing from `hash` (so two tokens' bytes hash as their concatenation).
 * Build and lookup must agree: this is the only hash function.
 */
function fnv(bytes: Uint8Array, start: number, end: number, hash = 0x811c9dc5): number {
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash;
}

/** FNV's low bits are its weakest: fold the high bits in before masking. */
const slotOf = (hash: number, mask: number) => (hash ^ (hash >>> 16)) & mask;

export class BpeTable {
  /** A fresh copy per user is wise: a global regex keeps state (lastIndex). */
  readonly pattern: RegExp;
  /** Number of ranks (the highest mergeable rank + 1). */
  readonly size: number;
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly #specialByRank: ReadonlyMap<number, Uint8Array>;
  readonly #offsets: Uint32Array;
  readonly #slots: Int32Array;
  readonly #mask: number;
  readonly #bytes: Uint8Array;

  private constructor(
    readonly name: string,
    header: Header,
    offsets: Uint32Array,
    slots: Int32Array,
    bytes: Uint8Array,
  ) {
    this.pattern = new RegExp(header.pattern, header.flags);
    this.size = header.size;
    this.specialTokens = new Map(header.special);
    this.#specialByRank = new Map(header.special.map(([text, rank]) => [rank, utf8.encode(text)]));
    this.#offsets = offsets;
    this.#slots = slots;
    this.#mask = slots.length - 1;
    this.#bytes = bytes;
  }

  /** Bytes held by the table's arrays. */
  get byteLength(): number {
    return this.#offsets.byteLength + this.#slots.byteLength + this.#bytes.byteLength;
  }

  /** Rank of the token whose bytes are `bytes[start..end)`, or -1. */
  rankOf(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    const offsets = this.#offsets;
    const table = this.#bytes;
    const slots = this.#slots;
    let slot = slotOf(fnv(bytes, start, end), this.#mask);
    for (;;) {
      const rank = slots[slot]!;
      if (rank === EMPTY) return EMPTY;
      const at = offsets[rank]!;
      if (offsets[rank + 1]! - at === length) {
        let i = 0;
        while (i < length && table[at + i] === bytes[start + i]) i++;
        if (i === length) return rank;
      }
      slot = (slot + 1) & this.#mask;
    }
  }

  /** Rank of the token whose bytes are token `left`'s followed by token `right`'s, or -1. */
  rankOfPair(left: number, right: number): number {
    const offsets = this.#offsets;
    const table = this.#bytes;
    const slots = this.#slots;
    const leftAt = offsets[left]!;
    const leftLength = offsets[left + 1]! - leftAt;
    const rightAt = offsets[right]!;
    const rightLength = offsets[right + 1]! - rightAt;
    const length = leftLength + rightLength;
    let slot = slotOf(fnv(table, rightAt, rightAt + rightLength, fnv(table, leftAt, leftAt + leftLength)), this.#mask);
    for (;;) {
      const rank = slots[slot]!;
      if (rank === EMPTY) return EMPTY;
      const at = offsets[rank]!;
      if (offsets[rank + 1]! - at === length) {
        let i = 0;
        while (i < leftLength && table[at + i] === table[leftAt + i]) i++;
        if (i === leftLength) {
          let j = 0;
          while (j < rightLength && table[at + leftLength + j] === table[rightAt + j]) j++;
          if (j === rightLength) return rank;
        }
      }
      slot = (slot + 1) & this.#mask;
    }
  }

  /** The bytes of a token (special tokens included), or undefined for a rank the encoding does not have. */
  tokenBytes(rank: number): Uint8Array | undefined {
    if (Number.isInteger(rank) && rank >= 0 && rank < this.size) {
      const at = this.#offsets[rank]!;
      const end = this.#offsets[rank + 1]!;
      if (end > at) return this.#bytes.subarray(at, end);
    }
    return this.#specialByRank.get(rank);
  }

  /** The table in its file form (see the module comment). */
  serialize(): Uint8Array {
    const json = utf8.encode(JSON.stringify(this.#header()));
    const headerEnd = align4(12 + json.length);
    const out = new Uint8Array(headerEnd + this.#offsets.byteLength + this.#slots.byteLength + this.#bytes.byteLength);
    const view = new DataView(out.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint32(4, FORMAT_VERSION, true);
    view.setUint32(8, json.length, true);
    out.set(json, 12);
    let at = headerEnd;
    for (const part of [this.#offsets, this.#slots, this.#bytes]) {
      out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
      at += part.byteLength;
    }
    return out;
  }

  #header(): Header {
    return {
      name: this.name,
      pattern: this.pattern.source,
      flags: this.pattern.flags,
      special: [...this.specialTokens],
      size: this.size,
      bytesLength: this.#bytes.length,
      slotBits: Math.log2(this.#slots.length),
    };
  }

  /** Reads a table written by serialize(); throws on anything else (wrong magic, version, sizes or platform). */
  static deserialize(data: Uint8Array): BpeTable {
    if (!LITTLE_ENDIAN) throw new Error("BPE table files are little-endian; this platform is not");
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.length < 12 || view.getUint32(0, true) !== MAGIC) throw new Error("not a BPE table file");
    const version = view.getUint32(4, true);
    if (version !== FORMAT_VERSION) throw new Error(`BPE table format ${version}, expected ${FORMAT_VERSION}`);
    const jsonLength = view.getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(data.subarray(12, 12 + jsonLength))) as Header;
    const start = align4(12 + jsonLength);
    const slotCount = 2 ** header.slotBits;
    const expected = start + 4 * (header.size + 1) + 4 * slotCount + header.bytesLength;
    if (data.length !== expected) throw new Error(`BPE table ${header.name} is ${data.length} bytes, expected ${expected}`);
    // Typed-array views need 4-byte alignment; a Buffer from a pool may not have it.
    const own = data.byteOffset % 4 === 0 ? data : data.slice();
    const buffer = own.buffer;
    const base = own.byteOffset;
    const offsets = new Uint32Array(buffer, base + start, header.size + 1);
    const slots = new Int32Array(buffer, base + start + offsets.byteLength, slotCount);
    const bytes = new Uint8Array(buffer, base + start + offsets.byteLength + slots.byteLength, header.bytesLength);
    return new BpeTable(header.name, header, offsets, slots, bytes);
  }

  /** Builds the table from gpt-tokenizer's data for one encoding. */
  static fromSource(name: string, source: BpeSource): BpeTable {
    const decoder = source.bytePairRankDecoder;
    const size = decoder.length;
    const encoded: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(size);
    let bytesLength = 0;
    let count = 0;
    for (let rank = 0; rank < size; rank++) {
      const value = decoder[rank];
      if (value === undefined) continue;
      const bytes = typeof value === "string" ? utf8.encode(value) : Uint8Array.from(value);
      encoded[rank] = bytes;
      bytesLength += bytes.length;
      count++;
    }
    const offsets = new Uint32Array(size + 1);
    const bytes = new Uint8Array(bytesLength);
    let at = 0;
    for (let rank = 0; rank < size; rank++) {
      offsets[rank] = at;
      const token = encoded[rank];
      if (token) {
        bytes.set(token, at);
        at += token.length;
      }
    }
    offsets[size] = at;
    // At most half full: linear probing then stays at one or two probes a lookup.
    const slotBits = Math.max(4, Math.ceil(Math.log2(count * 2)));
    const slots = new Int32Array(2 ** slotBits).fill(EMPTY);
    const mask = slots.length - 1;
    for (let rank = 0; rank < size; rank++) {
      const start = offsets[rank]!;
      const end = offsets[rank + 1]!;
      if (end === start) continue;
      let slot = slotOf(fnv(bytes, start, end), mask);
      while (slots[slot] !== EMPTY) {
        const other = slots[slot]!;
        const otherAt = offsets[other]!;
        if (offsets[other + 1]! - otherAt === end - start && bytes.subarray(start, end).every((b, i) => bytes[otherAt + i] === b)) {
          throw new Error(`${name}: ranks ${other} and ${rank} have the same bytes`);
        }
        slot = (slot + 1) & mask;
      }
      slots[slot] = rank;
    }
    const pattern = source.tokenSplitRegex;
    const flags = pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`;
    const header: Header = {
      name,
      pattern: pattern.source,
      flags,
      special: [...(source.specialTokensEncoder ?? new Map<string, number>())],
      size,
      bytesLength,
      slotBits,
    };
    return new BpeTable(name, header, offsets, slots, bytes);
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** The file `npm run build` writes for an encoding (in `dir`, a folder URL ending in "/"). */
export function tableFile(name: EncodingName, dir: URL = TABLES_DIR): URL {
  return new URL(`${name}.bpe`, dir);
}

function missing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/** The table of an encoding: its built file, else made from gpt-tokenizer. Does not block while reading. */
export async function loadTable(name: EncodingName, dir: URL = TABLES_DIR): Promise<BpeTable> {
  assertEncodingName(name);
  try {
    if (LITTLE_ENDIAN) return BpeTable.deserialize(await readFile(tableFile(name, dir)));
  } catch (err) {
    if (!missing(err)) throw err;
  }
  return BpeTable.fromSource(name, await importSource(name));
}

/** loadTable, synchronously: a few milliseconds with the built file (one read, no parsing), a second without. */
export function loadTableSync(name: EncodingName, dir: URL = TABLES_DIR): BpeTable {
  assertEncodingName(name);
  try {
    if (LITTLE_ENDIAN) return BpeTable.deserialize(readFileSync(tableFile(name, dir)));
  } catch (err) {
    if (!missing(err)) throw err;
  }
  return BpeTable.fromSource(name, requireSource(name));
}

/** Writes every encoding's table file from gpt-tokenizer's data (scripts/build.mjs runs it after tsc). */
export async function writeTableFiles(names: readonly EncodingName[] = ENCODING_NAMES, dir: URL = TABLES_DIR): Promise<URL[]> {
  const written: URL[] = [];
  // The arrays are written as they lie in memory; a big-endian machine builds its tables in memory instead.
  if (!LITTLE_ENDIAN) return written;
  mkdirSync(dir, { recursive: true });
  for (const name of names) {
    assertEncodingName(name);
    const file = tableFile(name, dir);
    const temporary = new URL(`${name}.bpe.${process.pid}.tmp`, dir);
    // Written aside and renamed: a bot starting meanwhile reads the old file or the new one, never half of one.
    writeFileSync(temporary, BpeTable.fromSource(name, await importSource(name)).serialize());
    renameSync(temporary, file);
    written.push(file);
  }
  return written;
}

function assertEncodingName(name: string): asserts name is EncodingName {
  if (!(ENCODING_NAMES as readonly string[]).includes(name)) {
    throw new TypeError(`unknown encoding "${name}" (expected ${ENCODING_NAMES.join(", ")})`);
  }
}

/** gpt-tokenizer keeps an encoding's data inside its GptEncoding object. */
function sourceOf(encoding: unknown): BpeSource {
  const core = (encoding as { bytePairEncodingCoreProcessor?: Partial<BpeSource> }).bytePairEncodingCoreProcessor;
  if (!Array.isArray(core?.bytePairRankDecoder) || !(core.tokenSplitRegex instanceof RegExp)) {
    throw new Error("gpt-tokenizer no longer exposes its rank tables (bytePairEncodingCoreProcessor)");
  }
  return core as BpeSource;
}

async function importSource(name: EncodingName): Promise<BpeSource> {
  // Literal specifiers so bundlers and tsc see each module.
  switch (name) {
    case "o200k_base":
      return sourceOf((await import("gpt-tokenizer/encoding/o200k_base")).default);
    case "cl100k_base":
      return sourceOf((await import("gpt-tokenizer/encoding/cl100k_base")).default);
    case "p50k_base":
      return sourceOf((await import("gpt-tokenizer/encoding/p50k_base")).default);
    case "r50k_base":
      return sourceOf((await import("gpt-tokenizer/encoding/r50k_base")).default);
  }
}

const requireCjs = createRequire(import.meta.url);

function requireSource(name: EncodingName): BpeSource {
  const module = requireCjs(`gpt-tokenizer/cjs/encoding/${name}`) as { default?: unknown };
  return sourceOf(module.default ?? module);
}
