// Messages that carry a file: sendPhoto (up to 10 MB uploaded; a photo of a file_id or URL is taken as is) and
// sendDocument (up to 50 MB uploaded; the MIME type guessed from the name when sent as octet-stream). Captions,
// replies, markup and flood control as for text messages; the uploaded bytes become a downloadable file.
import type { Chats } from "./chats.js";
import type { Methods } from "./dispatch.js";
import { noParseMode } from "./entities.js";
import { dimensions, extensionOf, guessMime, photoSize, type FileStore } from "./files.js";
import type { FloodControl } from "./flood-limits.js";
import { stripUndefined } from "./json.js";
import { markupFrom } from "./markup.js";
import type { Messages } from "./messages.js";
import { ApiError, badRequest } from "./params.js";
import type { BotUser, DocumentInfo, FileInfo, PhotoSize } from "./types.js";

const MAX_PHOTO_UPLOAD = 10 * 1024 * 1024;
const MAX_DOCUMENT_UPLOAD = 50 * 1024 * 1024;

export class Media {
  constructor(
    private readonly chats: Chats,
    private readonly messages: Messages,
    private readonly files: FileStore,
    private readonly flood: FloodControl,
    private readonly botUser: BotUser,
  ) {}

  methods(): Methods {
    return {
      sendPhoto: (p) => {
        const state = this.chats.fromParam(p);
        noParseMode(p);
        const input = this.files.inputFile(p, "photo");
        const caption = this.messages.captionFrom(p);
        const markup = markupFrom(p);
        p.bool("has_spoiler");
        const { thread, replyTo } = this.messages.sendOptions(p, state);
        let photo: PhotoSize[];
        let photoUrl: string | undefined;
        if ("bytes" in input) {
          if (input.bytes.length === 0) throw badRequest("file must be non-empty");
          if (input.bytes.length > MAX_PHOTO_UPLOAD) throw badRequest("PHOTO_INVALID_DIMENSIONS");
          this.flood.gate(state.chat, "message");
          const { width, height } = dimensions(input.bytes);
          const info = this.files.add(input.bytes, { mime: "image/jpeg", filePath: this.files.autoPath("photos", "jpg") });
          photo = [photoSize(info, width, height)];
        } else if ("fileId" in input) {
          this.flood.gate(state.chat, "message");
          const file = this.files.get(input.fileId)!;
          const { width, height } = dimensions(file.bytes);
          photo = [photoSize(file, width, height)];
        } else {
          this.flood.gate(state.chat, "message");
          photoUrl = input.url;
          photo = [photoSize(this.files.add(new Uint8Array(0), { filePath: this.files.autoPath("photos", "jpg") }), 0, 0)];
        }
        const msg = this.messages.create(state, this.botUser, { reply_to_message_id: replyTo, message_thread_id: thread });
        msg.photo = photo;
        if (photoUrl !== undefined) msg.photo_url = photoUrl;
        Object.assign(msg, caption);
        if (markup !== undefined) msg.reply_markup = markup;
        return this.messages.toApi(msg);
      },

      sendDocument: (p) => {
        const state = this.chats.fromParam(p);
        noParseMode(p);
        const input = this.files.inputFile(p, "document");
        const caption = this.messages.captionFrom(p);
        const markup = markupFrom(p);
        const { thread, replyTo } = this.messages.sendOptions(p, state);
        let document: DocumentInfo;
        if ("bytes" in input) {
          if (input.bytes.length === 0) throw badRequest("file must be non-empty");
          if (input.bytes.length > MAX_DOCUMENT_UPLOAD) throw new ApiError(413, "Request Entity Too Large");
          this.flood.gate(state.chat, "message");
          const fileName = input.filename ?? "document.dat";
          const mime = input.mime && input.mime !== "application/octet-stream" ? input.mime : guessMime(fileName);
          const info = this.files.add(input.bytes, { mime, filePath: this.files.autoPath("documents", extensionOf(fileName) ?? "dat") });
          document = { ...info, file_name: fileName, mime_type: mime };
          delete (document as Partial<FileInfo>).file_path;
        } else if ("fileId" in input) {
          this.flood.gate(state.chat, "message");
          const file = this.files.get(input.fileId)!;
          document = stripUndefined({ file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, mime_type: file.mime });
        } else {
          this.flood.gate(state.chat, "message");
          const info = this.files.add(new Uint8Array(0));
          document = { file_id: info.file_id, file_unique_id: info.file_unique_id, file_size: 0, file_name: input.url.split("/").pop() };
        }
        const msg = this.messages.create(state, this.botUser, { reply_to_message_id: replyTo, message_thread_id: thread });
        msg.document = document;
        Object.assign(msg, caption);
        if (markup !== undefined) msg.reply_markup = markup;
        return this.messages.toApi(msg);
      },
    };
  }
}
