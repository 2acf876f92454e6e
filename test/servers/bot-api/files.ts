// Files, as the Bot API stores and serves them: every photo size and document gets a file_id and a file_unique_id;
// getFile gives its file_path (files over 20 MB cannot be downloaded by bots), and the bytes are fetched from
// `/file/bot<token>/<file_path>`. Methods that take an InputFile accept an upload, `attach://<part>`, an existing
// file_id, or an http(s) URL (kept, not fetched).
import type { ServerResponse } from "node:http";
import { imageSize } from "image-size";
import type { Methods } from "./dispatch.js";
import { badRequest, type Params } from "./params.js";
import type { FileInfo, PhotoSize } from "./types.js";

/** Bots may download files up to 20 MB. */
const MAX_DOWNLOAD = 20 * 1024 * 1024;

/** `/file/bot<token>/<file_path>`: [token, URI-encoded file_path]. */
const DOWNLOAD_PATH = /^\/file\/bot([^/]+)\/(.+)$/;

export interface StoredFile extends FileInfo {
  bytes: Uint8Array;
  mime?: string;
}

/** What an InputFile parameter names: uploaded bytes, an existing file, or a URL. */
export type InputFile = { bytes: Uint8Array; filename?: string; mime?: string } | { fileId: string } | { url: string };

/** The token and (still URI-encoded) file_path of a download URL, or undefined for any other path. */
export function downloadPath(pathname: string): { token: string; encodedPath: string } | undefined {
  const match = DOWNLOAD_PATH.exec(pathname);
  return match ? { token: match[1]!, encodedPath: match[2]! } : undefined;
}

/** Answers a download with the file's bytes (headers only for HEAD). */
export function sendFile(res: ServerResponse, file: StoredFile, headOnly: boolean): void {
  res.writeHead(200, { "content-type": file.mime ?? "application/octet-stream", "content-length": file.bytes.length });
  res.end(headOnly ? undefined : Buffer.from(file.bytes));
}

export class FileStore {
  private readonly byId = new Map<string, StoredFile>();
  private readonly byPath = new Map<string, StoredFile>();
  private nextFileNumber = 1;

  /** Adds a downloadable file. */
  add(bytes: Uint8Array, opts: { filePath?: string; mime?: string } = {}): FileInfo {
    const n = this.nextFileNumber++;
    // A plain Uint8Array view (not a Buffer subclass) so tests can compare bytes with toEqual.
    bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const file: StoredFile = {
      file_id: `AgACAgTEST${n.toString().padStart(6, "0")}fid`,
      file_unique_id: `AQADTEST${n}`,
      file_size: bytes.length,
      file_path: opts.filePath ?? `documents/file_${n}.dat`,
      bytes,
      mime: opts.mime,
    };
    this.byId.set(file.file_id, file);
    this.byPath.set(file.file_path, file);
    return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, file_path: file.file_path };
  }

  get(fileId: string): StoredFile | undefined {
    return this.byId.get(fileId);
  }

  atPath(filePath: string): StoredFile | undefined {
    return this.byPath.get(filePath);
  }

  /** A file_path like Telegram's (`photos/file_12.jpg`) for the next file added. */
  autoPath(dir: string, ext: string): string {
    return `${dir}/file_${this.nextFileNumber}.${ext}`;
  }

  /** Stores a user's photo the way Telegram does: one file per size (90, 320, 800 px and the original longest side). */
  photoSizesFor(bytes: Uint8Array): PhotoSize[] {
    const { width, height } = dimensions(bytes);
    const longest = Math.max(width, height);
    const sides = [90, 320, 800].filter((s) => s < longest);
    const sizes: PhotoSize[] = [];
    for (const side of [...sides, longest]) {
      const scale = longest > 0 ? side / longest : 0;
      const info = this.add(bytes, { mime: "image/jpeg", filePath: this.autoPath("photos", "jpg") });
      sizes.push(photoSize(info, Math.round(width * scale), Math.round(height * scale)));
    }
    return sizes;
  }

  /** Resolves the InputFile parameter `name`: uploaded part, attach://, an existing file_id, or a URL. */
  inputFile(p: Params, name: string): InputFile {
    const upload = p.files.get(name);
    if (upload) return { bytes: upload.data, filename: upload.filename, mime: upload.contentType };
    const value = p.str(name);
    if (value === undefined || value === "") throw badRequest(`there is no ${name} in the request`);
    if (value.startsWith("attach://")) {
      const part = p.files.get(value.slice("attach://".length));
      if (!part) throw badRequest(`there is no ${name} in the request`);
      return { bytes: part.data, filename: part.filename, mime: part.contentType };
    }
    if (this.byId.has(value)) return { fileId: value };
    if (/^https?:\/\/\S+$/i.test(value)) return { url: value };
    throw badRequest("wrong file identifier/HTTP URL specified");
  }

  methods(): Methods {
    return {
      getFile: (p) => {
        const id = p.str("file_id");
        if (id === undefined || id === "") throw badRequest("file_id is empty");
        const file = this.byId.get(id);
        if (!file) throw badRequest("invalid file_id");
        if (file.file_size > MAX_DOWNLOAD) throw badRequest("file is too big");
        return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, file_path: file.file_path };
      },
    };
  }
}

export function photoSize(info: FileInfo, width: number, height: number): PhotoSize {
  return { file_id: info.file_id, file_unique_id: info.file_unique_id, width, height, file_size: info.file_size };
}

/** Pixel size of an image; 0 × 0 when the bytes are not an image Telegram would recognise. */
export function dimensions(bytes: Uint8Array): { width: number; height: number } {
  try {
    const size = imageSize(bytes);
    return { width: size.width ?? 0, height: size.height ?? 0 };
  } catch {
    return { width: 0, height: 0 };
  }
}

export function extensionOf(fileName: string): string | undefined {
  const match = /\.([A-Za-z0-9]{1,8})$/.exec(fileName);
  return match?.[1]?.toLowerCase();
}

/** The MIME type Telegram would record for a document sent as application/octet-stream. */
export function guessMime(fileName: string): string {
  const ext = extensionOf(fileName);
  const known: Record<string, string> = {
    jpg: "image/jpeg",
    jpeg: "image/jpeg",
    png: "image/png",
    webp: "image/webp",
    gif: "image/gif",
    pdf: "application/pdf",
    txt: "text/plain",
    md: "text/markdown",
    csv: "text/csv",
    html: "text/html",
    json: "application/json",
    zip: "application/zip",
    docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ogg: "audio/ogg",
    oga: "audio/ogg",
    opus: "audio/ogg",
    mp3: "audio/mpeg",
    m4a: "audio/mp4",
    wav: "audio/wav",
    mp4: "video/mp4",
  };
  return (ext && known[ext]) ?? "application/octet-stream";
}
