import type Keyv from "keyv";

const key = (chatId: number, userId: number) => `persona:${chatId}:u${userId}`;

/**
 * Each member's own persona in a group with one history per member (the chat's choice lives in its settings; a
 * private chat's user picks there too). One key per member and chat; the value is a preset id or "custom".
 */
export class PersonaChoiceStore {
  constructor(private readonly keyv: Keyv) {}

  /** The member's choice in this chat, if they made one (anything but a non-empty string reads as none). */
  async get(chatId: number, userId: number): Promise<string | undefined> {
    const value: unknown = await this.keyv.get(key(chatId, userId));
    return typeof value === "string" && value !== "" ? value : undefined;
  }

  async set(chatId: number, userId: number, id: string): Promise<void> {
    await this.keyv.set(key(chatId, userId), id);
  }
}
