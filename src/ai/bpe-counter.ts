/**
 * A fast, exact byte-pair counter on a compact rank table (bpe-table.ts).
 *
 * Why it exists: gpt-tokenizer's merge step is quadratic with expensive lookups (a subarray, a UTF-8 check and a
 * map or binary search per candidate pair, plus Array.splice per merge). English pre-tokens are mostly whole
 * vocabulary entries and never reach it, but Chinese has no spaces, so a whole clause is one pre-token and new
 * Chinese text runs at about 1–1.5 MB/s. This counter does the same merges as tiktoken (a pre-token that is one
 * vocabulary entry is one token; otherwise lowest rank first, leftmost on ties) with cheap lookups:
 *
 * - a pre-token is written as UTF-8 once; the table answers "which rank has these bytes" without building strings;
 * - ranks of adjacent pairs come from a table keyed by the two parts' ranks (an open-addressing Int32 hash table,
 *   filled on first sight from the rank table), so the hot loop never touches the vocabulary twice for one pair;
 * - short pieces merge over a flat array (a linear scan for the lowest rank is fastest for a few dozen parts);
 *   long ones use a linked list and a min-heap, so a 30 KB run of Chinese without punctuation is O(n log n);
 * - counts of recently seen pieces are kept in a bounded LRU.
 *
 * Special-token text ("<|endoftext|>") is counted as plain text, as the API treats user content.
 */
import type { BpeTable } from "./bpe-table.js";

const NONE = -1;
/** A pair that never merges: larger than every rank, so finding the lowest pair is one comparison per pair. */
const NO_MERGE = 0x7fffffff;
/** Pieces with more bytes than this merge with a heap instead of a linear scan. */
const SCAN_LIMIT = 96;
const DEFAULT_CACHE_SIZE = 20_000;
/**
 * Pair table: 2^18 slots (3 MB), cleared when 70 % full. Real text uses a few tens of thousands of distinct pairs,
 * and a table that fits in the CPU cache is what makes it fast.
 */
const PAIR_BITS = 18;
const PAIR_SLOTS = 1 << PAIR_BITS;
const PAIR_MAX_FILL = Math.floor(PAIR_SLOTS * 0.7);
/** Pieces longer than this (in UTF-16 units) are not cached: they rarely repeat and would pin memory. */
const CACHE_MAX_PIECE = 256;

export class BpeCounter {
  readonly #table: BpeTable;
  readonly #regex: RegExp;
  readonly #byteRank = new Int32Array(256).fill(NONE);
  /** (byte << 8 | byte) → rank of that two-byte token, or NO_MERGE. */
  readonly #bytePairs = new Int32Array(65536);

  // Pair table: (left rank, right rank) → rank of the merged token, or NO_MERGE. Empty slots have left = NONE. One slot is
  // three adjacent Int32 (left, right, rank) so a probe touches one cache line.
  readonly #pairTable = new Int32Array(PAIR_SLOTS * 3);
  #pairFill = 0;

  // Piece → count, approximately LRU at a fraction of the cost: hits in `#old` move to `#young`; when `#young` is
  // full it becomes `#old` and the previous old generation is dropped. At most 2 × cacheSize entries.
  #young = new Map<string, number>();
  #old = new Map<string, number>();
  readonly #cacheSize: number;

  // Scratch buffers reused by every merge (grown on demand).
  #bytes = new Uint8Array(1024);
  #parts = new Int32Array(1024); // rank of each part
  #pairs = new Int32Array(1024); // rank of merging part i with part i+1

  constructor(table: BpeTable, opts: { cacheSize?: number } = {}) {
    this.#table = table;
    // Own copy: a shared global regex's lastIndex must not be disturbed by (or disturb) other users.
    const { source, flags } = table.pattern;
    this.#regex = new RegExp(source, flags.includes("g") ? flags : `${flags}g`);
    this.#cacheSize = opts.cacheSize ?? DEFAULT_CACHE_SIZE;
    this.#clearPairs();
    this.#initByteRanks();
  }

  /** Number of tokens in `text`. */
  count(text: string): number {
    const regex = this.#regex;
    regex.lastIndex = 0;
    let total = 0;
    let match: RegExpExecArray | null;
    while ((match = regex.exec(text)) !== null) {
      total += this.#countPiece(match[0]);
    }
    return total;
  }

  /** Token ranks of `text` (same as tiktoken's encode_ordinary); used by tests to prove the merges exact. */
  encode(text: string): number[] {
    const regex = this.#regex;
    regex.lastIndex = 0;
    const out: number[] = [];
    let match: RegExpExecArray | null;
    while ((match = regex.exec(text)) !== null) {
      const n = this.#encodePiece(match[0]);
      for (let i = 0; i < n; i++) out.push(this.#parts[i]!);
    }
    return out;
  }

  clearCache(): void {
    this.#young.clear();
    this.#old.clear();
  }

  #countPiece(piece: string): number {
    let n = this.#young.get(piece);
    if (n !== undefined) return n;
    n = this.#old.get(piece);
    if (n === undefined) {
      // The small recent-pieces map is checked before the 200k-entry vocabulary: it stays in the CPU cache.
      n = this.#encodePiece(piece);
      // Long pieces rarely repeat and would pin memory.
      if (piece.length > CACHE_MAX_PIECE || this.#cacheSize <= 0) return n;
    }
    if (this.#young.size >= this.#cacheSize) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(piece, n);
    return n;
  }

  /** Encodes one pre-token; leaves its ranks in #parts[0..n) and returns n. */
  #encodePiece(piece: string): number {
    const len = this.#utf8(piece);
    if (len === 0) return 0;
    this.#ensure(len);
    const parts = this.#parts;
    // A pre-token that is a vocabulary entry is that one token (tiktoken looks it up before merging too).
    const whole = this.#table.rankOf(this.#bytes, 0, len);
    if (whole !== NONE) {
      parts[0] = whole;
      return 1;
    }
    const bytes = this.#bytes;
    const byteRank = this.#byteRank;
    for (let i = 0; i < len; i++) parts[i] = byteRank[bytes[i]!]!;
    return len <= SCAN_LIMIT ? this.#mergeScan(len) : this.#mergeHeap(len);
  }

  /** tiktoken's loop over a flat array: find the lowest pair, merge it, update its two neighbours. */
  #mergeScan(len: number): number {
    const parts = this.#parts;
    const pairs = this.#pairs;
    const bytes = this.#bytes;
    const bytePairs = this.#bytePairs;
    let n = len;
    // Every first pair is two single bytes: a dense 64K table answers those without hashing.
    for (let i = 0; i < n - 1; i++) pairs[i] = bytePairs[(bytes[i]! << 8) | bytes[i + 1]!]!;
    for (;;) {
      let best = NO_MERGE;
      let at = -1;
      for (let i = 0; i < n - 1; i++) {
        const r = pairs[i]!;
        if (r < best) {
          best = r;
          at = i;
        }
      }
      if (at < 0) break;
      parts[at] = best;
      // Plain loops: for a few dozen elements they beat copyWithin's call overhead several times over.
      for (let i = at + 1; i < n - 1; i++) parts[i] = parts[i + 1]!;
      for (let i = at; i < n - 2; i++) pairs[i] = pairs[i + 1]!;
      n--;
      if (at < n - 1) pairs[at] = this.#pair(best, parts[at + 1]!);
      if (at > 0) pairs[at - 1] = this.#pair(parts[at - 1]!, best);
    }
    return n;
  }

  /**
   * The same merges for long pieces: parts in a doubly linked list, candidate pairs in a binary min-heap ordered by
   * (rank, position); stale heap entries are skipped when popped. Positions keep list order, so ties go leftmost.
   */
  #mergeHeap(len: number): number {
    const parts = this.#parts;
    const next = new Int32Array(len);
    const prev = new Int32Array(len);
    const alive = new Uint8Array(len).fill(1);
    // Heap entries: rank and left position, in parallel arrays; capacity: initial pairs + 2 per merge.
    const cap = 3 * len;
    const hRank = new Int32Array(cap);
    const hPos = new Int32Array(cap);
    let size = 0;
    const less = (a: number, b: number) => hRank[a]! < hRank[b]! || (hRank[a] === hRank[b] && hPos[a]! < hPos[b]!);
    const swap = (a: number, b: number) => {
      const r = hRank[a]!;
      const p = hPos[a]!;
      hRank[a] = hRank[b]!;
      hPos[a] = hPos[b]!;
      hRank[b] = r;
      hPos[b] = p;
    };
    const push = (rank: number, pos: number) => {
      let i = size++;
      hRank[i] = rank;
      hPos[i] = pos;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!less(i, parent)) break;
        swap(i, parent);
        i = parent;
      }
    };
    const pop = () => {
      size--;
      if (size > 0) {
        hRank[0] = hRank[size]!;
        hPos[0] = hPos[size]!;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < size && less(l, m)) m = l;
          if (r < size && less(r, m)) m = r;
          if (m === i) break;
          swap(i, m);
          i = m;
        }
      }
    };
    for (let i = 0; i < len; i++) {
      next[i] = i + 1 < len ? i + 1 : NONE;
      prev[i] = i - 1;
    }
    // pairOf[i]: the rank currently expected for the pair starting at part i (NO_MERGE: none).
    const pairOf = new Int32Array(len).fill(NO_MERGE);
    for (let i = 0; i < len - 1; i++) {
      const r = this.#pair(parts[i]!, parts[i + 1]!);
      pairOf[i] = r;
      if (r !== NO_MERGE) push(r, i);
    }
    let count = len;
    while (size > 0) {
      const rank = hRank[0]!;
      const pos = hPos[0]!;
      pop();
      if (!alive[pos] || pairOf[pos] !== rank) continue;
      const right = next[pos]!;
      // Merge right into pos.
      parts[pos] = rank;
      alive[right] = 0;
      const after = next[right]!;
      next[pos] = after;
      if (after !== NONE) prev[after] = pos;
      count--;
      if (after !== NONE) {
        const r = this.#pair(rank, parts[after]!);
        pairOf[pos] = r;
        if (r !== NO_MERGE) push(r, pos);
      } else {
        pairOf[pos] = NO_MERGE;
      }
      const before = prev[pos]!;
      if (before >= 0) {
        const r = this.#pair(parts[before]!, rank);
        pairOf[before] = r;
        if (r !== NO_MERGE) push(r, before);
      }
    }
    // Compact the survivors to the front, in order.
    let n = 0;
    for (let i = 0; i !== NONE; i = next[i]!) parts[n++] = parts[i]!;
    if (n !== count) throw new Error("bpe-counter: merge bookkeeping is inconsistent");
    return n;
  }

  /** Rank of the token made of parts `left` and `right`, or NO_MERGE. */
  #pair(left: number, right: number): number {
    // Multiplicative hashing of the two ranks; linear probing.
    const table = this.#pairTable;
    let slot = (Math.imul(left, 0x9e3779b1) ^ Math.imul(right, 0x85ebca6b)) >>> (32 - PAIR_BITS);
    for (;;) {
      const at = slot * 3;
      const l = table[at]!;
      if (l === NONE) break;
      if (l === left && table[at + 1] === right) return table[at + 2]!;
      slot = (slot + 1) & (PAIR_SLOTS - 1);
    }
    const rank = this.#lookupConcat(left, right);
    if (this.#pairFill >= PAIR_MAX_FILL) {
      this.#clearPairs();
      return rank;
    }
    const at = slot * 3;
    table[at] = left;
    table[at + 1] = right;
    table[at + 2] = rank;
    this.#pairFill++;
    return rank;
  }

  #clearPairs(): void {
    this.#pairTable.fill(NONE);
    this.#pairFill = 0;
  }

  #lookupConcat(left: number, right: number): number {
    const rank = this.#table.rankOfPair(left, right);
    return rank === NONE ? NO_MERGE : rank;
  }

  #initByteRanks(): void {
    const table = this.#table;
    const key = new Uint8Array(2);
    for (let b = 0; b < 256; b++) {
      key[0] = b;
      const rank = table.rankOf(key, 0, 1);
      if (rank === NONE) throw new Error(`bpe-counter: byte ${b} is not in the vocabulary`);
      this.#byteRank[b] = rank;
    }
    for (let a = 0; a < 256; a++) {
      key[0] = a;
      for (let b = 0; b < 256; b++) {
        key[1] = b;
        const rank = table.rankOf(key, 0, 2);
        this.#bytePairs[(a << 8) | b] = rank === NONE ? NO_MERGE : rank;
      }
    }
  }

  /** Writes `text` as UTF-8 into #bytes and returns the length (lone surrogates become U+FFFD, as TextEncoder does). */
  #utf8(text: string): number {
    if (this.#bytes.length < text.length * 3) this.#bytes = new Uint8Array(text.length * 3);
    const out = this.#bytes;
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) {
        out[n++] = c;
      } else if (c < 0x800) {
        out[n++] = 0xc0 | (c >> 6);
        out[n++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 0x3f);
          out[n++] = 0x80 | ((c >> 6) & 0x3f);
          out[n++] = 0x80 | (c & 0x3f);
        } else {
          out[n++] = 0xef;
          out[n++] = 0xbf;
          out[n++] = 0xbd;
        }
      } else {
        out[n++] = 0xe0 | (c >> 12);
        out[n++] = 0x80 | ((c >> 6) & 0x3f);
        out[n++] = 0x80 | (c & 0x3f);
      }
    }
    return n;
  }

  #ensure(len: number): void {
    if (this.#parts.length >= len) return;
    const size = Math.max(len, this.#parts.length * 2);
    this.#parts = new Int32Array(size);
    this.#pairs = new Int32Array(size);
  }
}
