// JSON values as the Bot API carries them: objects in and out, compared by content (Telegram's "message is not
// modified" and per-scope command lists compare values, not the order their keys were written in).

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A copy without the undefined properties (Telegram omits absent fields rather than sending null). */
export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Canonical JSON: object keys sorted, undefined dropped. Used for "message is not modified". */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (isObject(v)) {
      const sorted: Json = {};
      for (const k of Object.keys(v).sort()) if (v[k] !== undefined) sorted[k] = v[k];
      return sorted;
    }
    return v;
  });
}
