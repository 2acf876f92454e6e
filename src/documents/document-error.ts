/** Why a file could not be read as a document; each reason is one line the user is told (bot/ words it). */
export type DocumentErrorReason =
  /** Needs a password (PDF encryption). */
  | "encrypted"
  /** Damaged or not what its name says (a truncated PDF, a "DOCX" that is no Word file). */
  | "corrupt"
  /** Readable, but holds no text (a scanned PDF without a text layer). */
  | "no_text"
  /** Zero bytes, or only whitespace. */
  | "empty"
  /** A kind of file the bot does not read (images are the photo feature's, archives, spreadsheets, binaries). */
  | "unsupported"
  /** Would expand past a bound (a zip bomb posing as DOCX, too many pages). */
  | "too_large"
  /** Readable, but more text than the bot keeps for one document (KNOWLEDGE_MAX_CHUNKS). */
  | "too_long";

/** A file that cannot be read as a document; `reason` says why, `message` is for logs only. */
export class DocumentError extends Error {
  override readonly name = "DocumentError";
  constructor(
    readonly reason: DocumentErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
