// What Telegram makes of an audio upload: sendVoice plays OGG files encoded with Opus, MP3 and M4A as voice notes
// (anything else is delivered as a document, as Telegram does), and a voice note's duration is read from the file
// when the bot does not give one (Opus: the last page's granule position less the pre-skip, at 48 kHz).

/** The container and codec of an audio file, as far as a voice note cares. */
export type AudioKind = "ogg-opus" | "ogg-other" | "mp3" | "m4a" | "other";

const ascii = (bytes: Uint8Array, at: number, text: string) =>
  bytes.length >= at + text.length && [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));

/** Sniffs the bytes (no trust in the file name or the declared MIME type). */
export function audioKind(bytes: Uint8Array): AudioKind {
  if (ascii(bytes, 0, "OggS")) {
    // The first page holds the codec header: OpusHead for Opus (Vorbis, Speex, FLAC otherwise).
    const first = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 512)));
    return first.includes("OpusHead") ? "ogg-opus" : "ogg-other";
  }
  if (ascii(bytes, 0, "ID3") || (bytes.length > 1 && bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0)) return "mp3";
  if (ascii(bytes, 4, "ftyp")) return "m4a";
  return "other";
}

/** Telegram plays these as voice notes. */
export const isVoiceFormat = (kind: AudioKind) => kind === "ogg-opus" || kind === "mp3" || kind === "m4a";

/** Seconds of an OGG/Opus stream, rounded (0 when the bytes are not one). */
export function opusDuration(bytes: Uint8Array): number {
  if (audioKind(bytes) !== "ogg-opus") return 0;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head = buf.indexOf("OpusHead");
  const preSkip = head >= 0 && head + 12 <= buf.length ? buf.readUInt16LE(head + 10) : 0;
  const last = buf.lastIndexOf("OggS");
  if (last < 0 || last + 14 > buf.length) return 0;
  const granule = Number(buf.readBigInt64LE(last + 6));
  return granule > preSkip ? Math.round((granule - preSkip) / 48_000) : 0;
}
