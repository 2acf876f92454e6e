/**
 * Documents the bot has read, in keyv: each one's text as chunks with their citations (`document:<id>`), and the
 * list a chat has learned for good (`knowledge:<chatId>`). A document sent with a question lives DOCUMENT_TTL_MS,
 * long enough for the follow-up questions while it is in the chat's history; a learned one until it is forgotten.
 * The history keeps only a reference (id and title) in the turn that brought the document.
 *
 * The id is a hash of the chat and the content, so the same file (or page) sent again in the same chat is the same
 * document: its text and its vectors are reused, not read and embedded again.
 */
import { createHash } from "node:crypto";
import type Keyv from "keyv";

/** A document sent with a question is kept this long (7 days). */
export const DOCUMENT_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export type DocumentSource = { kind: "file"; fileName: string } | { kind: "link"; url: string };

export interface StoredChunk {
  text: string;
  tokens: number;
  /** "p. 3", "pp. 2–3", a heading, or "" (see documents/chunker.ts locationLabel). */
  location: string;
}

/** What is known about a document without its text. */
export interface DocumentMeta {
  id: string;
  chatId: number;
  /** How it is named in citations and in /knowledge: the file name, or the page's title. */
  title: string;
  format: string;
  source: DocumentSource;
  /** Size of the file or page as received. */
  bytes: number;
  /** Tokens of all chunks (the chat model's encoding). */
  tokens: number;
  chunkCount: number;
  pages?: number;
  /** Epoch ms. */
  addedAt: number;
  /** Kept for good in the chat's knowledge (/learn). */
  learned?: boolean;
  /** The embedding model its vectors were made with (they are in the vector store), if they were made. */
  embeddedWith?: string;
}

export interface StoredDocument extends DocumentMeta {
  chunks: StoredChunk[];
}

/** The reference a history turn keeps to a document it brought. */
export interface DocumentRef {
  id: string;
  title: string;
}

/** The document id for content (file bytes, or a page's URL and bytes) in a chat. */
export function documentId(chatId: number, ...parts: Array<Uint8Array | string>): string {
  const hash = createHash("sha256").update(`${chatId}:`);
  for (const part of parts) hash.update(part).update("\u0000");
  return `d${hash.digest("hex").slice(0, 24)}`;
}

const docKey = (id: string) => `document:${id}`;
const listKey = (chatId: number) => `knowledge:${chatId}`;

interface StoredList {
  version: 1;
  documents: DocumentMeta[];
}

function isStoredDocument(value: unknown): value is StoredDocument {
  const v = value as Partial<StoredDocument> | undefined;
  return typeof v?.id === "string" && typeof v.title === "string" && Array.isArray(v.chunks) && typeof v.tokens === "number";
}

export class DocumentStore {
  constructor(private readonly keyv: Keyv) {}

  async get(id: string): Promise<StoredDocument | undefined> {
    const value: unknown = await this.keyv.get(docKey(id));
    return isStoredDocument(value) ? value : undefined;
  }

  /** Saves a document; a learned one is kept for good, any other for DOCUMENT_TTL_MS from now. */
  async save(doc: StoredDocument): Promise<void> {
    await this.keyv.set(docKey(doc.id), doc, doc.learned ? undefined : DOCUMENT_TTL_MS);
  }

  /** What the chat has learned, oldest first. */
  async learned(chatId: number): Promise<DocumentMeta[]> {
    const value = (await this.keyv.get(listKey(chatId))) as Partial<StoredList> | undefined;
    return value?.version === 1 && Array.isArray(value.documents) ? value.documents : [];
  }

  /** Keeps a document in the chat's knowledge for good (its text without expiry, and in the chat's list). */
  async learn(doc: StoredDocument): Promise<DocumentMeta> {
    const learned: StoredDocument = { ...doc, learned: true };
    await this.save(learned);
    const { chunks: _, ...meta } = learned;
    const list = (await this.learned(doc.chatId)).filter((d) => d.id !== doc.id);
    await this.keyv.set(listKey(doc.chatId), { version: 1, documents: [...list, meta] } satisfies StoredList);
    return meta;
  }

  /** Removes a learned document from the chat's knowledge and deletes its text; the removed one, if it was there. */
  async forget(chatId: number, id: string): Promise<DocumentMeta | undefined> {
    const list = await this.learned(chatId);
    const gone = list.find((d) => d.id === id);
    if (!gone) return undefined;
    const rest = list.filter((d) => d.id !== id);
    if (rest.length > 0) await this.keyv.set(listKey(chatId), { version: 1, documents: rest } satisfies StoredList);
    else await this.keyv.delete(listKey(chatId));
    await this.keyv.delete(docKey(id));
    return gone;
  }
}
