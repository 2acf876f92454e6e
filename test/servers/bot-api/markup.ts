// Reply markup, as Telegram checks it: an inline keyboard is rows of buttons, each with a text and exactly one
// action (callback_data of 1-64 bytes, a valid url, ...); plain text buttons are refused in inline keyboards. An
// empty inline keyboard counts as no markup, which matters for "message is not modified".
import { canonical, isObject } from "./json.js";
import { badRequest, isValidUrl, type Params } from "./params.js";

function normalizeMarkup(markup: unknown): unknown {
  if (isObject(markup) && Array.isArray(markup.inline_keyboard) && markup.inline_keyboard.length === 0) return undefined;
  return markup;
}

/** Whether a message with this markup shows one (an empty inline keyboard shows nothing). */
export const hasMarkup = (markup: unknown) => normalizeMarkup(markup) !== undefined;

/** Same markup by content (an empty inline keyboard equals none). */
export const sameMarkup = (a: unknown, b: unknown) => canonical(normalizeMarkup(a)) === canonical(normalizeMarkup(b));

/** Throws Telegram's refusal for a malformed reply markup. */
export function validateReplyMarkup(markup: unknown): void {
  const parseError = badRequest("can't parse reply keyboard markup JSON object");
  if (!isObject(markup)) throw parseError;
  if (markup.inline_keyboard !== undefined) {
    if (!Array.isArray(markup.inline_keyboard)) throw parseError;
    for (const row of markup.inline_keyboard) {
      if (!Array.isArray(row)) throw parseError;
      for (const button of row) {
        if (!isObject(button) || typeof button.text !== "string") throw badRequest("can't parse inline keyboard button: Text must be a String");
        const actions = Object.keys(button).filter((k) => k !== "text" && k !== "style" && k !== "icon_custom_emoji_id");
        if (actions.length === 0) {
          throw badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
        }
        if (button.callback_data !== undefined) {
          if (typeof button.callback_data !== "string" || Buffer.byteLength(button.callback_data) > 64 || button.callback_data === "") {
            throw badRequest("BUTTON_DATA_INVALID");
          }
        }
        if (button.url !== undefined && (typeof button.url !== "string" || !isValidUrl(button.url, true))) {
          throw badRequest(`inline keyboard button URL ${JSON.stringify(button.url)} is invalid`);
        }
      }
    }
    return;
  }
  if (Array.isArray(markup.keyboard) || markup.remove_keyboard === true || markup.force_reply === true) return;
  throw parseError;
}

/** The `reply_markup` parameter, validated; undefined when absent. */
export function markupFrom(p: Params): unknown {
  const markup = p.json("reply_markup", "can't parse reply keyboard markup JSON object");
  if (markup === undefined) return undefined;
  validateReplyMarkup(markup);
  return markup;
}
