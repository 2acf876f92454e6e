// Messages that carry a file: sendPhoto (up to 10 MB uploaded; a photo of a file_id or URL is taken as is),
// sendDocument (up to 50 MB uploaded; the MIME type guessed from the name when sent as octet-stream), sendVoice (up to
// 50 MB: OGG/Opus, MP3 or M4A become a voice note with its duration, any other bytes a document, as Telegram does)
// and sendAudio (a music file with duration, performer and title). Captions, replies, threads, ephemeral messages,
// markup and flood control as for text messages; the uploaded bytes become a downloadable file.
import { audioKind, isVoiceFormat, opusDuration } from "./audio-format.js";
import type { Chats } from "./chats.js";
import type { Methods } from "./dispatch.js";
import { noParseMode } from "./entities.js";
import { dimensions, extensionOf, guessMime, photoSize, type FileStore, type InputFile } from "./files.js";
import { stripUndefined } from "./json.js";
import { markupFrom } from "./markup.js";
import { writableChat } from "./membership.js";
import type { Messages } from "./messages.js";
import { ApiError, badRequest, type Params } from "./params.js";
import type { AudioInfo, DocumentInfo, PhotoSize, StoredMessage, VoiceInfo } from "./types.js";

const MAX_PHOTO_UPLOAD = 10 * 1024 * 1024;
const MAX_FILE_UPLOAD = 50 * 1024 * 1024;

export class Media {
  constructor(
    private readonly chats: Chats,
    private readonly messages: Messages,
    private readonly files: FileStore,
  ) {}

  /** Uploaded bytes checked for emptiness and the 50 MB limit. */
  private uploaded(input: InputFile): input is Extract<InputFile, { bytes: Uint8Array }> {
    if (!("bytes" in input)) return false;
    if (input.bytes.length === 0) throw badRequest("file must be non-empty");
    if (input.bytes.length > MAX_FILE_UPLOAD) throw new ApiError(413, "Request Entity Too Large");
    return true;
  }

  /** A document from an upload, a file_id or a URL. */
  private document(input: InputFile, fallbackName: string): DocumentInfo {
    if ("bytes" in input) {
      const fileName = input.filename ?? fallbackName;
      const mime = input.mime && input.mime !== "application/octet-stream" ? input.mime : guessMime(fileName);
      const info = this.files.add(input.bytes, { mime, filePath: this.files.autoPath("documents", extensionOf(fileName) ?? "dat") });
      return { file_id: info.file_id, file_unique_id: info.file_unique_id, file_size: info.file_size, file_name: fileName, mime_type: mime };
    }
    if ("fileId" in input) {
      const file = this.files.get(input.fileId)!;
      return stripUndefined({ file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, mime_type: file.mime });
    }
    const info = this.files.add(new Uint8Array(0));
    return { file_id: info.file_id, file_unique_id: info.file_unique_id, file_size: 0, file_name: input.url.split("/").pop() };
  }

  /** Caption, markup and the send itself, shared by every media method. */
  private sendMedia(p: Params, fill: (msg: StoredMessage) => void, prepare: () => void = () => undefined) {
    const state = writableChat(this.chats, p);
    noParseMode(p);
    const caption = this.messages.captionFrom(p);
    const markup = markupFrom(p);
    prepare();
    return this.messages.send(p, state, (msg) => {
      fill(msg);
      Object.assign(msg, caption);
      if (markup !== undefined) msg.reply_markup = markup;
    });
  }

  methods(): Methods {
    return {
      sendPhoto: (p) => {
        const input = this.files.inputFile(p, "photo");
        p.bool("has_spoiler");
        if ("bytes" in input) {
          if (input.bytes.length === 0) throw badRequest("file must be non-empty");
          if (input.bytes.length > MAX_PHOTO_UPLOAD) throw badRequest("PHOTO_INVALID_DIMENSIONS");
        }
        return this.sendMedia(p, (msg) => {
          let photo: PhotoSize[];
          if ("bytes" in input) {
            const { width, height } = dimensions(input.bytes);
            const info = this.files.add(input.bytes, { mime: "image/jpeg", filePath: this.files.autoPath("photos", "jpg") });
            photo = [photoSize(info, width, height)];
          } else if ("fileId" in input) {
            const file = this.files.get(input.fileId)!;
            const { width, height } = dimensions(file.bytes);
            photo = [photoSize(file, width, height)];
          } else {
            msg.photo_url = input.url;
            photo = [photoSize(this.files.add(new Uint8Array(0), { filePath: this.files.autoPath("photos", "jpg") }), 0, 0)];
          }
          msg.photo = photo;
        });
      },

      sendDocument: (p) => {
        const input = this.files.inputFile(p, "document");
        this.uploaded(input);
        return this.sendMedia(p, (msg) => {
          msg.document = this.document(input, "document.dat");
        });
      },

      sendVoice: (p) => {
        const input = this.files.inputFile(p, "voice");
        const duration = p.int("duration");
        let voice: (bytes: Uint8Array) => VoiceInfo | undefined = () => undefined;
        if (this.uploaded(input)) {
          const kind = audioKind(input.bytes);
          if (isVoiceFormat(kind)) {
            voice = (bytes) => {
              const mime = kind === "ogg-opus" ? "audio/ogg" : kind === "mp3" ? "audio/mpeg" : "audio/mp4";
              const ext = kind === "ogg-opus" ? "oga" : kind === "mp3" ? "mp3" : "m4a";
              const info = this.files.add(bytes, { mime, filePath: this.files.autoPath("voice", ext) });
              return { file_id: info.file_id, file_unique_id: info.file_unique_id, duration: duration ?? opusDuration(bytes), mime_type: mime, file_size: info.file_size };
            };
          }
        }
        return this.sendMedia(p, (msg) => {
          const asVoice = "bytes" in input ? voice(input.bytes) : undefined;
          if (asVoice) msg.voice = asVoice;
          else if ("fileId" in input && this.files.get(input.fileId)?.mime === "audio/ogg") {
            const file = this.files.get(input.fileId)!;
            msg.voice = { file_id: file.file_id, file_unique_id: file.file_unique_id, duration: duration ?? opusDuration(file.bytes), mime_type: "audio/ogg", file_size: file.file_size };
          } else {
            // Telegram shows audio it cannot play as a voice note as a file.
            msg.document = this.document(input, "voice.dat");
          }
        });
      },

      sendAudio: (p) => {
        const input = this.files.inputFile(p, "audio");
        this.uploaded(input);
        const duration = p.int("duration");
        const performer = p.str("performer");
        const title = p.str("title");
        return this.sendMedia(p, (msg) => {
          const doc = this.document(input, "audio.mp3");
          const audio: AudioInfo = stripUndefined({
            file_id: doc.file_id,
            file_unique_id: doc.file_unique_id,
            duration: duration ?? 0,
            performer,
            title,
            file_name: doc.file_name,
            mime_type: doc.mime_type,
            file_size: doc.file_size,
          });
          msg.audio = audio;
        });
      },
    };
  }
}
