// Message drafts (sendMessageDraft, Bot API 9.3): a bot streams a partial answer into a private chat as a draft that
// the user sees being typed. Only private chats, a non-zero draft_id, text up to 4096 UTF-16 code units with
// validated entities, and a flood window of its own. A server older than 9.3 answers 404 (`supported = false`).
// The server keeps every update of each draft.
import type { Chats } from "./chats.js";
import type { Methods } from "./dispatch.js";
import { entitiesFrom, noParseMode, utf16Length } from "./entities.js";
import type { FloodControl } from "./flood-limits.js";
import { stripUndefined } from "./json.js";
import { MAX_TEXT } from "./messages.js";
import { badRequest, NOT_FOUND } from "./params.js";
import type { DraftState, DraftUpdate } from "./types.js";

export class Drafts {
  constructor(
    private readonly chats: Chats,
    private readonly flood: FloodControl,
    /** Mutable: false makes sendMessageDraft an unknown method (404). */
    public supported: boolean,
  ) {}

  list(chatId: number): DraftState[] {
    const state = this.chats.state(chatId);
    return state ? [...state.drafts.values()] : [];
  }

  methods(): Methods {
    return {
      sendMessageDraft: (p) => {
        if (!this.supported) throw NOT_FOUND();
        const state = this.chats.fromParam(p);
        if (state.chat.type !== "private") throw badRequest("draft can't be sent to this chat");
        const draftId = p.int("draft_id");
        if (draftId === undefined || draftId === 0) throw badRequest("draft_id must be a non-zero integer");
        noParseMode(p);
        const text = p.str("text") ?? "";
        if (utf16Length(text) > MAX_TEXT) throw badRequest("message is too long");
        const entities = entitiesFrom(p, "entities", text);
        const thread = p.int("message_thread_id");
        p.bool("can_stop");
        p.bool("keep_on_stop");
        this.flood.gate(state.chat, "draft");
        const update: DraftUpdate = stripUndefined({ at: Date.now(), draft_id: draftId, text, entities, message_thread_id: thread });
        const draft = state.drafts.get(draftId) ?? { draft_id: draftId, text, history: [] };
        draft.text = text;
        draft.entities = entities;
        draft.history.push(update);
        state.drafts.set(draftId, draft);
        return true;
      },
    };
  }
}
