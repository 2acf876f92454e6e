/**
 * The one place that turns a growing answer into Telegram messages: used by questions, photos and tools alike.
 *
 * It owns the choice between drafts (private chats: sendMessageDraft, then one sendMessage) and edits (groups, or
 * private chats whose server refuses drafts: one message edited as the answer grows), the pacing (see pacer.ts),
 * formatting (Markdown to entities, tolerant of half-written Markdown) and splitting at 4096. The contract: whatever
 * happens to the model or to Telegram, every character that arrived ends up in the chat, formatted when Telegram
 * accepts the entities and as plain text when it does not.
 *
 * An inline message (inline mode, guest mode: see target.ts) is the one exception to "every character": it is a
 * single message the bot can only edit, so it streams by edits paced like a group message, and an answer longer than
 * 4096 is cut at a reader's break to fit, with the `cutNote` (in the user's language) saying so.
 */
import { GrammyError, HttpError, type Api } from "grammy";
import type { InlineKeyboardMarkup, Message } from "grammy/types";
import type { Logger } from "../util/logger.js";
import type { FormattedText } from "./formatted-text.js";
import { joinFormatted, MESSAGE_LIMIT } from "./formatted-text.js";
import { markdownToEntities } from "./markdown.js";
import { splitFormatted } from "./split.js";
import { sleep, type ChatKind, type Pacing, type PacerKey, type UpdateKind } from "./pacer.js";
import { firstMessageOptions, isInlineTarget, paceKeyOf, topicOptions, type ChatTarget, type StreamTarget } from "./target.js";
import type { DraftSupport } from "./draft-support.js";


/** What a producer feeds the stream: answer text as it arrives, or a short status while a tool runs. */
export type AnswerEvent = { type: "text"; delta: string } | { type: "status"; text: string };

export interface AnswerStreamDeps {
  /** For final updates: retries 429 and network errors (auto-retry). */
  api: Api;
  /** For intermediate updates: no retries; a skipped update is replaced by the next one. */
  fastApi: Api;
  pacer: Pacing;
  drafts: DraftSupport;
  log: Logger;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /** Short note for the user when the producer fails (in their language); appended to what arrived. */
  errorNote?: (error: unknown) => string;
  /**
   * Note appended when the signal aborts the answer (e.g. shutdown or a stop button). A function gets the signal's
   * reason and may return undefined: the text that arrived is then left as it is, without a note.
   */
  abortNote?: string | ((reason: unknown) => string | undefined);
  /**
   * Messages of an earlier answer that this one replaces (its question was edited), in order: the new answer is
   * edited into them in place; the ones it does not need are deleted, and one that can no longer be edited is deleted
   * and sent anew, so the chat never shows both answers. Chat targets only.
   */
  replace?: readonly number[];
  /** Shown above the answer in its first message, from the first text on (e.g. the transcript of a voice question). */
  header?: FormattedText;
  /** Inline messages: the note under an answer cut to fit one message. */
  cutNote?: string;
  /** Drafts carry Telegram's stop button (`can_stop`); a press arrives as `stopped_message_generation`. */
  canStop?: boolean;
  /** Told each draft id before its first draft goes out, so a stop naming it finds this answer. */
  onDraft?: (draftId: number) => void;
  /** Under every message while the answer streams by edits (a Stop button); gone from the final text. */
  streamingMarkup?: InlineKeyboardMarkup;
  /** Under the last message of the final text (a Regenerate button). */
  finalMarkup?: InlineKeyboardMarkup;
}

export interface StreamOutcome {
  /** The answer's Markdown as it arrived (without notes added by the stream). */
  text: string;
  /** Messages that hold the answer, in order (none for an inline message: it has no id in a chat). */
  messageIds: number[];
  /** The producer's error, if it failed. */
  error?: unknown;
  aborted: boolean;
}

interface SentPart {
  messageId: number;
  shown: FormattedText;
  /** The keyboard the message shows (canonical JSON), if any. */
  markup?: string;
}

/** What a replaced message "shows" before the new answer reaches it: never equal to a rendered part. */
const STALE: FormattedText = { text: "", entities: [] };

const TYPING_REPEAT_MS = 4500;
/** Drafts are a 30-second preview: refresh one that would otherwise expire while a tool runs. */
const DRAFT_KEEPALIVE_MS = 20_000;

export async function streamAnswer(
  deps: AnswerStreamDeps,
  target: StreamTarget,
  events: AsyncIterable<AnswerEvent>,
  opts: StreamOptions = {},
): Promise<StreamOutcome> {
  const stream = new AnswerStream(deps, target, opts);
  return stream.run(events);
}

class AnswerStream {
  private markdown = "";
  private status = "";
  private ended = false;
  private mode: "draft" | "edit";
  private plain = false;
  private readonly chatKind: ChatKind;
  /** The chat written to; undefined for an inline message. */
  private readonly chat: ChatTarget | undefined;
  private readonly inlineMessageId: string | undefined;
  private readonly paceKey: PacerKey;
  /** The inline message is gone (deleted, or too old to edit): nothing more can be shown. */
  private gone = false;
  private readonly sent: SentPart[] = [];
  private draftShown: FormattedText | undefined;
  private draftIndex = -1;
  private readonly draftBase = 1 + Math.floor(Math.random() * 0x3fff_0000);
  private visible = false;
  private wake: (() => void) | undefined;
  private version = 0;
  private shownVersion = -1;
  private inFlight: Op | undefined;
  private draftAbort: AbortController | undefined;

  constructor(
    private readonly deps: AnswerStreamDeps,
    target: StreamTarget,
    private readonly opts: StreamOptions,
  ) {
    this.chat = isInlineTarget(target) ? undefined : target;
    this.inlineMessageId = isInlineTarget(target) ? target.inlineMessageId : undefined;
    this.paceKey = paceKeyOf(target);
    // Inline messages are paced like group messages (Telegram counts their edits like a group's).
    this.chatKind = this.chat?.chatType === "private" ? "private" : "group";
    const replacing = this.chat ? (opts.replace ?? []) : [];
    // A replacement grows inside the old answer's messages: edits, never a draft beside them.
    this.mode = replacing.length === 0 && this.chat?.chatType === "private" && deps.drafts.usable(this.chat.chatId) ? "draft" : "edit";
    for (const messageId of replacing) this.sent.push({ messageId, shown: STALE });
    // The inline message already exists (the chosen result, or the guest answer): the answer only ever edits it.
    if (this.inlineMessageId !== undefined) this.sent[0] = { messageId: 0, shown: { text: "", entities: [] } };
  }

  /** For log lines: the chat, or the inline message. */
  private get where(): { chatId?: number; inlineMessageId?: string } {
    return this.chat ? { chatId: this.chat.chatId } : { inlineMessageId: this.inlineMessageId };
  }

  async run(events: AsyncIterable<AnswerEvent>): Promise<StreamOutcome> {
    const typing = this.keepTyping();
    const pump = this.pump();
    // Awaited below; until then a failure must not count as an unhandled rejection.
    pump.catch(() => undefined);
    let error: unknown;
    let aborted = false;
    try {
      for await (const event of events) {
        if (this.opts.signal?.aborted) break;
        if (event.type === "text") {
          if (event.delta.length === 0) continue;
          this.markdown += event.delta;
          this.status = "";
        } else {
          this.status = event.text;
        }
        this.version++;
        this.wake?.();
      }
    } catch (err) {
      error = err;
    }
    if (this.opts.signal?.aborted) aborted = true;
    this.ended = true;
    this.wake?.();
    typing.stop();
    // A draft still in flight cannot conflict with the final message, so the final text need not wait for it
    // (one round trip from the last token to the final text). Anything else must land first.
    // It is cancelled if it has not left yet, so it cannot bring back a stale draft after the final message.
    if (this.inFlight?.kind === "draft") {
      this.draftAbort?.abort();
      pump.catch((err: unknown) => this.deps.log.debug({ err }, "draft update cancelled"));
    } else await pump;

    const { abortNote } = this.opts;
    const note = aborted
      ? typeof abortNote === "function"
        ? abortNote(this.opts.signal?.reason)
        : abortNote
      : error !== undefined
        ? (this.opts.errorNote?.(error) ?? "")
        : undefined;
    const messageIds = await this.finish(note);
    return { text: this.markdown, messageIds, error, aborted };
  }

  // ---- rendering -------------------------------------------------------------------------------------------------

  private render(partial: boolean, note?: string): FormattedText[] {
    const extra = note ?? (partial ? this.status : "");
    // Half-written Markdown can render to nothing yet (e.g. just "**"): there is nothing to show then.
    const body = this.markdown.trim() ? markdownToEntities(this.markdown, { partial }) : undefined;
    if (!body?.text.trim() && !extra) return [];
    // The header goes with the first text (or the note), never alone: the first update is the answer starting.
    const whole = joinFormatted([this.opts.header, body]);
    let parts = whole.text.trim() ? splitFormatted(whole, MESSAGE_LIMIT).filter((p) => p.text.trim()) : [];
    const extraRoom = extra ? extra.length + 2 : 0;
    if (this.inlineMessageId !== undefined && (parts.length > 1 || (parts[0]?.text.length ?? 0) + extraRoom > MESSAGE_LIMIT)) {
      // One message only: the answer is cut where a reader would cut it, leaving room for the notes under it.
      const cutNote = this.opts.cutNote ?? "…";
      parts = splitFormatted(whole, MESSAGE_LIMIT - extraRoom - cutNote.length - 2).slice(0, 1);
      appendItalicLine(parts, cutNote);
    }
    if (extra) appendItalicLine(parts, extra);
    return this.plain ? parts.map((p) => ({ text: p.text, entities: [] })) : parts;
  }

  // ---- intermediate updates --------------------------------------------------------------------------------------

  /** Shows the growing answer until the producer ends: at most one request in flight, paced, newest text only. */
  private async pump(): Promise<void> {
    let lastDraftAt = 0;
    while (!this.ended) {
      let refresh = false;
      if (this.version === this.shownVersion) {
        const keepalive = this.mode === "draft" && this.visible && this.draftIndex >= 0;
        const until = keepalive ? Math.max(0, lastDraftAt + DRAFT_KEEPALIVE_MS - Date.now()) : undefined;
        await this.waitForChange(until);
        if (this.ended) break;
        if (this.version === this.shownVersion) {
          if (!keepalive) continue;
          refresh = true;
        }
      }
      const parts = this.render(true);
      const op = parts.length > 0 ? this.nextOp(parts, true, refresh) : undefined;
      if (!op) {
        this.shownVersion = this.version;
        continue;
      }
      const kind: UpdateKind = op.kind === "draft" ? "draft" : "message";
      const first = !this.visible;
      // The first text goes out at once: seeing the answer start is what matters most.
      const wait = this.deps.pacer.delay(this.paceKey, this.chatKind, kind, !first);
      if (wait > 0) {
        await this.waitForChange(wait, true);
        continue;
      }
      const slot = first
        ? await this.deps.pacer.acquireFinal(this.paceKey, this.chatKind, kind)
        : await this.deps.pacer.tryIntermediate(this.paceKey, this.chatKind, kind);
      if (!slot) continue;
      const version = this.version;
      this.inFlight = op;
      const ok = await this.apply(op, parts, false);
      this.deps.pacer.settle(slot);
      this.inFlight = undefined;
      if (ok) {
        this.shownVersion = version;
        if (op.kind === "draft") lastDraftAt = Date.now();
      }
    }
  }

  /** Resolves on new content, on the end, or after `ms`. With `sleepOnly`, waits the time out unless the stream ends. */
  private waitForChange(ms?: number, sleepOnly = false): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = sleepOnly ? () => this.ended && done() : done;
      if (ms !== undefined) timer = setTimeout(done, ms);
    });
  }

  // ---- operations ------------------------------------------------------------------------------------------------

  private nextOp(parts: FormattedText[], partial: boolean, refresh = false): Op | undefined {
    if (this.gone) return undefined;
    const last = parts.length - 1;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const sent = this.sent[i];
      // While streaming in draft mode the last part is a draft; everything before it is a finished message.
      if (partial && this.mode === "draft" && i === last) {
        const unchanged = this.draftIndex === i && this.draftShown !== undefined && sameText(this.draftShown, part);
        return unchanged && !refresh ? undefined : { kind: "draft", index: i };
      }
      if (!sent) return { kind: "send", index: i };
      if (!sameText(sent.shown, part) || sent.markup !== markupKey(this.markupFor(i, last, partial))) return { kind: "edit", index: i };
    }
    return undefined;
  }

  /** The keyboard part `index` of `last + 1` should show: Stop while streaming, Regenerate under the final text. */
  private markupFor(index: number, last: number, partial: boolean): InlineKeyboardMarkup | undefined {
    if (this.inlineMessageId !== undefined) return undefined;
    // Drafts have Telegram's own stop button; messages sent beside a draft are finished parts.
    if (partial) return this.mode === "edit" ? this.opts.streamingMarkup : undefined;
    return index === last ? this.opts.finalMarkup : undefined;
  }

  /** Runs one operation. Returns false when it did not take effect (skipped or failed in a way already handled). */
  private async apply(op: Op, parts: FormattedText[], final: boolean): Promise<boolean> {
    const part = parts[op.index]!;
    const api = final ? this.deps.api : this.deps.fastApi;
    try {
      if (this.inlineMessageId !== undefined) {
        // Without reply_markup the edit also takes the inline keyboard of the chosen result away.
        await api.editMessageTextInline(this.inlineMessageId, part.text, {
          entities: part.entities,
          link_preview_options: { is_disabled: true },
        });
        this.sent[0]!.shown = part;
        this.visible = true;
        return true;
      }
      const chat = this.chat!;
      const chatId = chat.chatId;
      const markup = this.markupFor(op.index, parts.length - 1, !final);
      if (op.kind === "draft") {
        this.draftAbort = new AbortController();
        const draftId = this.draftBase + op.index;
        if (this.draftIndex !== op.index) this.opts.onDraft?.(draftId);
        await api.sendMessageDraft(
          chatId,
          draftId,
          part.text,
          { entities: part.entities, ...topicOptions(chat), ...(this.opts.canStop ? { can_stop: true } : {}) },
          this.draftAbort.signal as Parameters<Api["sendMessageDraft"]>[4],
        );
        this.draftIndex = op.index;
        this.draftShown = part;
      } else if (op.kind === "send") {
        const first = op.index === 0;
        const message: Message.TextMessage = await api.sendMessage(chatId, part.text, {
          entities: part.entities,
          link_preview_options: { is_disabled: true },
          ...(first ? firstMessageOptions(chat) : topicOptions(chat)),
          ...(markup ? { reply_markup: markup } : {}),
        });
        this.sent[op.index] = { messageId: message.message_id, shown: part, markup: markupKey(markup) };
      } else {
        const sent = this.sent[op.index]!;
        // Without reply_markup the edit also takes the message's keyboard away (the Stop button once final).
        await api.editMessageText(chatId, sent.messageId, part.text, {
          entities: part.entities,
          link_preview_options: { is_disabled: true },
          ...(markup ? { reply_markup: markup } : {}),
        });
        sent.shown = part;
        sent.markup = markupKey(markup);
      }
      this.visible = true;
      return true;
    } catch (err) {
      return this.recover(op, parts, final, err);
    }
  }

  private async recover(op: Op, parts: FormattedText[], final: boolean, err: unknown): Promise<boolean> {
    const { log, pacer } = this.deps;
    // The last draft, cancelled because the final message is going out: nothing went wrong.
    if (op.kind === "draft" && this.draftAbort?.signal.aborted) return false;
    const part = parts[op.index]!;
    if (err instanceof GrammyError) {
      const description = err.description;
      if (err.error_code === 429) {
        const retryAfter = err.parameters.retry_after ?? 1;
        void pacer.penalize(this.paceKey, this.chatKind, retryAfter);
        log.warn({ ...this.where, op: op.kind, retryAfter }, "flood control hit while streaming");
        return false;
      }
      if (/can't parse entities|entities/i.test(description) && part.entities.length > 0 && !this.plain) {
        // Never lose the answer over formatting: from now on this answer goes out as plain text.
        log.warn({ ...this.where, description }, "entities rejected; sending plain text");
        this.plain = true;
        const plainParts = parts.map((p) => ({ text: p.text, entities: [] }));
        return this.apply(op, plainParts, final);
      }
      if (op.kind === "draft") {
        const chatId = this.chat!.chatId;
        const refusal = this.deps.drafts.failed(chatId, err);
        if (refusal) {
          // The method itself is refused (older server, or not in this chat): this answer goes on by edits.
          this.mode = "edit";
          this.draftIndex = -1;
          log.info({ chatId, description, refusal }, "drafts refused; streaming by edits");
        } else {
          // A passing failure costs this draft only: the next one carries newer text anyway.
          log.warn({ chatId, description, status: err.error_code }, "draft update failed; skipped");
        }
        return false;
      }
      if (/message is not modified/i.test(description)) {
        if (op.kind === "edit") {
          this.sent[op.index]!.shown = part;
          this.sent[op.index]!.markup = markupKey(this.markupFor(op.index, parts.length - 1, !final));
        }
        return true;
      }
      if (this.inlineMessageId !== undefined && /message to edit not found|message can't be edited|MESSAGE_ID_INVALID/i.test(description)) {
        // An inline message cannot be sent anew: the answer has nowhere left to go.
        log.info({ ...this.where, description }, "inline message gone; answer dropped");
        this.gone = true;
        return false;
      }
      if (op.kind === "edit" && /message to edit not found|message can't be edited/i.test(description)) {
        // The user deleted our message, or it can no longer be edited: it and the parts after it go, and the text is
        // sent anew, in order, and never twice.
        await this.discardFrom(op.index, /can't be edited/i.test(description));
        return false;
      }
    }
    if (!(err instanceof GrammyError) && !(err instanceof HttpError)) throw err;
    log[final ? "error" : "warn"]({ err, ...this.where, op: op.kind }, "streaming update failed");
    return false;
  }

  // ---- the final text --------------------------------------------------------------------------------------------

  /** Sends or edits every part until the chat shows exactly the final answer. */
  private async finish(note: string | undefined): Promise<number[]> {
    let parts = this.render(false, note);
    if (parts.length === 0) return [];
    // A bounded number of rounds: each round either converges or downgrades (plain text, fewer messages).
    for (let round = 0; round < parts.length * 3 + 6; round++) {
      const op = this.nextOp(parts, false);
      if (!op) break;
      const slot = await this.deps.pacer.acquireFinal(this.paceKey, this.chatKind, "message");
      const ok = await this.apply(op, parts, true);
      this.deps.pacer.settle(slot);
      if (this.plain) parts = this.render(false, note);
      if (!ok && op.kind === "send") await sleep(250);
    }
    if (this.inlineMessageId !== undefined) return [];
    // A replaced answer that was longer: its extra parts would read as part of the new one.
    await this.deleteMessages(this.sent.splice(parts.length).map((s) => s.messageId));
    return this.sent.slice(0, parts.length).map((s) => s.messageId);
  }

  /** Forgets the parts from `index` on and deletes their messages (`index` itself only if it still exists). */
  private async discardFrom(index: number, includingIndex: boolean): Promise<void> {
    const discarded = this.sent.splice(index);
    await this.deleteMessages((includingIndex ? discarded : discarded.slice(1)).map((s) => s.messageId));
  }

  /** Deletes messages of this answer (chat targets), paced like every final update; a failure is logged, not fatal. */
  private async deleteMessages(messageIds: number[]): Promise<void> {
    const { api, pacer, log } = this.deps;
    const chatId = this.chat?.chatId;
    if (chatId === undefined) return;
    for (const messageId of messageIds) {
      const slot = await pacer.acquireFinal(this.paceKey, this.chatKind, "message");
      await api
        .deleteMessage(chatId, messageId)
        .catch((err: unknown) => log.warn({ err, chatId, messageId }, "could not delete a replaced message"));
      pacer.settle(slot);
    }
  }

  private keepTyping(): { stop(): void } {
    const { api, log } = this.deps;
    const chat = this.chat;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      // An inline message has no chat to show "typing…" in.
      if (stopped || this.visible || !chat) return;
      api
        .sendChatAction(chat.chatId, "typing", topicOptions(chat))
        .catch((err: unknown) => log.debug({ err }, "typing action failed"));
      timer = setTimeout(tick, TYPING_REPEAT_MS);
    };
    tick();
    return {
      stop() {
        stopped = true;
        if (timer) clearTimeout(timer);
      },
    };
  }
}

type Op = { kind: "send" | "edit" | "draft"; index: number };

/** A keyboard by content, to compare what a message shows with what it should. */
function markupKey(markup: InlineKeyboardMarkup | undefined): string | undefined {
  return markup && markup.inline_keyboard.length > 0 ? JSON.stringify(markup.inline_keyboard) : undefined;
}

function sameText(a: FormattedText, b: FormattedText): boolean {
  if (a.text !== b.text || a.entities.length !== b.entities.length) return false;
  return JSON.stringify(a.entities) === JSON.stringify(b.entities);
}

/** Adds an italic line (a status or a note) under the last part, or as a part of its own when it does not fit. */
function appendItalicLine(parts: FormattedText[], line: string): void {
  const last = parts[parts.length - 1];
  if (last && last.text.length + 2 + line.length <= MESSAGE_LIMIT) {
    const offset = last.text.length + 2;
    parts[parts.length - 1] = {
      text: `${last.text}\n\n${line}`,
      entities: [...last.entities, { type: "italic", offset, length: line.length }],
    };
  } else {
    parts.push({ text: line, entities: [{ type: "italic", offset: 0, length: line.length }] });
  }
}
