/**
 * Reading a zip without letting it blow up (zip bombs): the central directory is checked before anything is inflated
 * (entry count, the declared uncompressed sizes, their sum, and each entry's compression ratio), then every entry is
 * inflated with a bound on the bytes that actually come out, since the declared sizes may lie. yauzl reads the zip
 * (validateEntrySizes stops an entry the moment it inflates past its declared size); what passed is packed again,
 * stored (no compression), so whatever reads it next (mammoth) sees exactly these bytes and nothing else.
 */
import { zipSync } from "fflate";
import yauzl from "yauzl";
import { DocumentError } from "./document-error.js";

export interface ZipLimits {
  /** Most entries (files and folders). */
  maxEntries: number;
  /** Most bytes all entries may inflate to together, declared and actual. */
  maxTotalBytes: number;
  /** Highest uncompressed/compressed ratio of one entry, checked for entries larger than ratioFloorBytes. */
  maxRatio: number;
  ratioFloorBytes: number;
}

/** Bounds for an office document: Word files compress their XML about 5–20 times, never a hundred times over megabytes. */
export const DOCX_ZIP_LIMITS: ZipLimits = {
  maxEntries: 2_000,
  maxTotalBytes: 64 * 1024 * 1024,
  maxRatio: 100,
  ratioFloorBytes: 1024 * 1024,
};

function openZip(bytes: Uint8Array): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err) reject(new DocumentError("corrupt", `not a readable zip: ${err.message}`, { cause: err }));
      else resolve(zip);
    });
  });
}

function listEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on("entry", (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once("end", () => resolve(entries));
    zip.once("error", (err: Error) => reject(new DocumentError("corrupt", `broken zip directory: ${err.message}`, { cause: err })));
    zip.readEntry();
  });
}

function checkDeclared(entries: yauzl.Entry[], limits: ZipLimits): void {
  if (entries.length > limits.maxEntries) throw new DocumentError("too_large", `the zip has ${entries.length} entries`);
  let total = 0;
  for (const entry of entries) {
    total += entry.uncompressedSize;
    if (total > limits.maxTotalBytes) throw new DocumentError("too_large", `the zip declares more than ${limits.maxTotalBytes} bytes`);
    const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
    if (entry.uncompressedSize > limits.ratioFloorBytes && ratio > limits.maxRatio) {
      throw new DocumentError("too_large", `${entry.fileName} would expand ${Math.round(ratio)} times`);
    }
  }
}

function inflate(zip: yauzl.ZipFile, entry: yauzl.Entry, budget: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(new DocumentError("corrupt", `cannot read ${entry.fileName}: ${err.message}`, { cause: err }));
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > budget) {
          stream.destroy(new DocumentError("too_large", `${entry.fileName} inflates past the bound`));
          return;
        }
        chunks.push(chunk);
      });
      stream.once("end", () => resolve(Buffer.concat(chunks, size)));
      stream.once("error", (error: Error) => {
        if (error instanceof DocumentError) return reject(error);
        // yauzl: "too many bytes in the stream" is an entry inflating past its declared size: a lying bomb.
        const reason = /too many bytes|too few bytes/.test(error.message) ? "too_large" : "corrupt";
        reject(new DocumentError(reason, `${entry.fileName}: ${error.message}`, { cause: error }));
      });
    });
  });
}

/**
 * The zip's files, each inflated within the limits, packed again without compression. Throws DocumentError:
 * "corrupt" for what is not a zip or is damaged, "too_large" for anything past a bound.
 */
export async function boundedZip(bytes: Uint8Array, limits: ZipLimits = DOCX_ZIP_LIMITS): Promise<{ files: Map<string, Uint8Array>; repacked: Uint8Array }> {
  const zip = await openZip(bytes);
  try {
    const entries = await listEntries(zip);
    checkDeclared(entries, limits);
    const files = new Map<string, Uint8Array>();
    let left = limits.maxTotalBytes;
    for (const entry of entries) {
      if (entry.fileName.endsWith("/")) continue;
      // Never more than the entry declared (yauzl) and never more than what is left of the total (here).
      const data = await inflate(zip, entry, Math.min(left, entry.uncompressedSize));
      left -= data.length;
      files.set(entry.fileName, data);
    }
    return { files, repacked: zipSync(Object.fromEntries(files), { level: 0 }) };
  } finally {
    zip.close();
  }
}
