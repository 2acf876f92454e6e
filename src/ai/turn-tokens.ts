import { TOKENS_PER_MESSAGE, countTokens, type EncodingName } from "./tokens.js";

/**
 * Tokens a turn costs in a request: content plus the per-message overhead, plus image tokens, plus
 * the name when it is sent in the message's `name` field (its tokens and one more, per OpenAI's
 * cookbook). Call this once when the turn is created and store the result with it (HistoryTurn.tokens):
 * history trimming only adds stored numbers, so nothing is ever re-tokenized.
 */
export function countTurnTokens(
  turn: { content: string; images?: readonly { tokens: number }[]; name?: string },
  encoding: EncodingName,
): number {
  let tokens = countTokens(turn.content, encoding) + TOKENS_PER_MESSAGE;
  for (const image of turn.images ?? []) tokens += image.tokens;
  if (turn.name) tokens += countTokens(turn.name, encoding) + 1;
  return tokens;
}
