import type { ChatCompletionChunk } from "openai/resources/chat/completions";

export interface AssembledToolCall {
  id: string;
  name: string;
  arguments: string;
}

type ToolCallDelta = ChatCompletionChunk.Choice.Delta.ToolCall;

/**
 * Puts streamed tool-call fragments back together. OpenAI sends, per call, a first fragment with
 * `index`, `id` and `function.name`, then fragments with the same `index` and pieces of `function.arguments`;
 * parallel calls may interleave. Some OpenAI-compatible servers reuse index 0 for every call or repeat the id
 * and name on each fragment, so a new id at a known index starts a new call and repeats are ignored.
 */
export class ToolCallAccumulator {
  readonly #calls: AssembledToolCall[] = [];
  /** Stream index → position in #calls of the call currently receiving that index's fragments. */
  readonly #byIndex = new Map<number, number>();
  #last = -1;

  add(deltas: ToolCallDelta[] | undefined): void {
    if (!deltas) return;
    for (const delta of deltas) this.#addOne(delta);
  }

  #addOne(delta: ToolCallDelta): void {
    const index = typeof delta.index === "number" ? delta.index : undefined;
    let slot = index === undefined ? this.#last : (this.#byIndex.get(index) ?? -1);
    const existing = slot >= 0 ? this.#calls[slot] : undefined;
    if (!existing || (delta.id && existing.id && delta.id !== existing.id)) {
      slot = this.#calls.push({ id: "", name: "", arguments: "" }) - 1;
      if (index !== undefined) this.#byIndex.set(index, slot);
    }
    const call = this.#calls[slot]!;
    this.#last = slot;
    if (delta.id && !call.id) call.id = delta.id;
    const fn = delta.function;
    if (fn?.name && !call.name) call.name = fn.name;
    if (fn?.arguments) call.arguments += fn.arguments;
  }

  /** The calls in the order they started. A call that never got an id gets a stable made-up one. */
  calls(): AssembledToolCall[] {
    return this.#calls.map((call, i) => ({ ...call, id: call.id || `call_${i}` }));
  }

  get size(): number {
    return this.#calls.length;
  }
}
