// Message drafts (sendMessageDraft, Bot API 9.3; stop button 10.3): a bot streams a partial answer into a private
// chat as a draft that the user sees being typed. Only private chats, a non-zero draft_id, text of 0-4096 UTF-16 code
// units (an empty text shows "Thinking…", Bot API 10.0) with validated entities, a thread only where the chat has
// topics, and a flood window of its own. `can_stop` shows the user a stop button: pressing it (userStopsDraft)
// queues a `stopped_message_generation` update, and the draft disappears unless it was sent with `keep_on_stop`. A
// draft also disappears when the bot sends a message to that chat and thread, or 30 s after its last update. A
// server older than 9.3 answers 404 (`supported = false`). The server keeps every update of each draft.
import type { Chats } from "./chats.js";
import type { Methods } from "./dispatch.js";
import { entitiesFrom, noParseMode, utf16Length } from "./entities.js";
import type { FloodControl } from "./flood-limits.js";
import { botThread } from "./forum-topics.js";
import { stripUndefined } from "./json.js";
import { writableChat } from "./membership.js";
import { MAX_TEXT } from "./messages.js";
import { badRequest, NOT_FOUND } from "./params.js";
import type { BotUser, DraftState, DraftUpdate } from "./types.js";
import type { UpdateQueue } from "./updates.js";

/** A draft is shown for 30 s after its last update. */
export const DRAFT_LIFETIME_MS = 30_000;

export class Drafts {
  constructor(
    private readonly chats: Chats,
    private readonly flood: FloodControl,
    private readonly updates: UpdateQueue,
    private readonly botUser: BotUser,
    /** Mutable: false makes sendMessageDraft an unknown method (404). */
    public supported: boolean,
  ) {}

  list(chatId: number): DraftState[] {
    const state = this.chats.state(chatId);
    return state ? [...state.drafts.values()] : [];
  }

  /** The draft the user sees now in the chat (and thread), if any: the one updated last that is still shown. */
  visible(chatId: number, threadId?: number): DraftState | undefined {
    const now = Date.now();
    let shown: DraftState | undefined;
    for (const draft of this.list(chatId)) {
      const last = draft.history.at(-1)?.at ?? 0;
      if (now - last > DRAFT_LIFETIME_MS) draft.visible = false;
      if (!draft.visible || draft.message_thread_id !== threadId) continue;
      if (!shown || last >= (shown.history.at(-1)?.at ?? 0)) shown = draft;
    }
    return shown;
  }

  /**
   * The user presses the stop button of a draft (the one they see by default). Queues `stopped_message_generation`
   * and returns true only when the draft was sent with can_stop (otherwise there was no button: nothing happens).
   */
  stop(opts: { chat: number; draftId?: number; threadId?: number }): boolean {
    const state = this.chats.requireState(opts.chat);
    const draft = opts.draftId !== undefined ? state.drafts.get(opts.draftId) : this.visible(opts.chat, opts.threadId);
    if (!draft) throw new Error(`userStopsDraft: no ${opts.draftId !== undefined ? `draft ${opts.draftId}` : "visible draft"} in chat ${opts.chat}`);
    if (!draft.can_stop || !draft.visible) return false;
    draft.stoppedAt = Date.now();
    if (!draft.keep_on_stop) draft.visible = false;
    this.updates.push({
      stopped_message_generation: stripUndefined({
        chat: this.chats.info(state.chat),
        message_thread_id: draft.message_thread_id,
        draft_id: draft.draft_id,
      }),
    });
    return true;
  }

  methods(): Methods {
    return {
      sendMessageDraft: (p) => {
        if (!this.supported) throw NOT_FOUND();
        const state = writableChat(this.chats, p);
        if (state.chat.type !== "private") throw badRequest("draft can't be sent to this chat");
        const draftId = p.int("draft_id");
        if (draftId === undefined || draftId === 0) throw badRequest("draft_id must be a non-zero integer");
        noParseMode(p);
        const text = p.str("text") ?? "";
        if (utf16Length(text) > MAX_TEXT) throw badRequest("message is too long");
        const entities = entitiesFrom(p, "entities", text);
        const thread = botThread(this.chats, this.botUser, state, p.int("message_thread_id"), undefined);
        const canStop = p.strictBool("can_stop");
        const keepOnStop = p.strictBool("keep_on_stop");
        this.flood.gate(state.chat, "draft");
        const existing = state.drafts.get(draftId);
        const update: DraftUpdate = stripUndefined({
          at: Date.now(),
          draft_id: draftId,
          text,
          entities,
          message_thread_id: thread,
          can_stop: canStop,
          keep_on_stop: keepOnStop,
          afterStop: existing?.stoppedAt !== undefined ? true : undefined,
        });
        const draft: DraftState = existing ?? { draft_id: draftId, text, visible: true, history: [] };
        draft.text = text;
        draft.entities = entities;
        draft.message_thread_id = thread;
        draft.can_stop = canStop;
        draft.keep_on_stop = keepOnStop;
        // Updates after a stop are accepted (afterStop in the history) but no longer bring the draft back.
        if (draft.stoppedAt === undefined) draft.visible = true;
        draft.history.push(update);
        state.drafts.set(draftId, draft);
        return true;
      },
    };
  }
}
