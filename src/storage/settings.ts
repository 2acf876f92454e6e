import type Keyv from "keyv";

/** What a chat's admins (or a private chat's user) chose; anything unset falls back to the configuration. */
export interface ChatSettings {
  systemPrompt?: string;
  /** The persona (preset id) the chat's admins picked in /persona; unset: the custom systemPrompt, else the default. */
  persona?: string;
  model?: string;
  /** "shared": one history for the whole group (or topic); "per-user": each member has their own. */
  historyMode?: "shared" | "per-user";
  /** Language of the bot's own texts in this chat; unset: each user's Telegram language. */
  language?: "en" | "zh";
  /** Voice notes get a spoken answer too (after the text answer). */
  voiceReplies?: boolean;
}

const key = (chatId: number) => `settings:${chatId}`;

/** Whatever is stored (older shape, foreign data) reads as valid settings: fields of the wrong kind are dropped. */
function toSettings(value: unknown): ChatSettings {
  if (!value || typeof value !== "object") return {};
  const v = value as Record<string, unknown>;
  const out: ChatSettings = {};
  if (typeof v.systemPrompt === "string" && v.systemPrompt.trim()) out.systemPrompt = v.systemPrompt;
  if (typeof v.persona === "string" && v.persona.trim()) out.persona = v.persona;
  if (typeof v.model === "string" && v.model.trim()) out.model = v.model;
  if (v.historyMode === "shared" || v.historyMode === "per-user") out.historyMode = v.historyMode;
  if (v.language === "en" || v.language === "zh") out.language = v.language;
  if (v.voiceReplies === true) out.voiceReplies = true;
  return out;
}

/** Per-chat settings in keyv, one key per chat. */
export class ChatSettingsStore {
  constructor(private readonly keyv: Keyv) {}

  async get(chatId: number): Promise<ChatSettings> {
    return toSettings(await this.keyv.get(key(chatId)));
  }

  /** Merges `patch` into the chat's settings; a key set to undefined is removed (back to the default). */
  async update(chatId: number, patch: Partial<ChatSettings>): Promise<ChatSettings> {
    const next: Record<string, unknown> = { ...(await this.get(chatId)), ...patch };
    for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
    await this.keyv.set(key(chatId), next);
    return next;
  }
}
