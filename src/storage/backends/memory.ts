import Keyv from "keyv";
import { onceClose, watchErrors, type OpenStoreOptions, type Store } from "./backend.js";

/** memory://: an in-process Map, gone on exit (tests, trying the bot out). */
export function openMemory(namespace: string, opts: OpenStoreOptions): Store {
  const keyv = new Keyv({ namespace, throwOnErrors: true });
  watchErrors(keyv, opts.onError).opened();
  return { keyv, kind: "memory", displayUrl: "memory://", close: onceClose(async () => {}) };
}
