import Keyv from "keyv";
import { MemorySharedState } from "../shared/shared-state.js";
import { onceClose, watchErrors, type OpenStoreOptions, type Store } from "./backend.js";

/** memory://: an in-process Map, gone on exit (tests, trying the bot out). */
export function openMemory(namespace: string, opts: OpenStoreOptions): Store {
  const keyv = new Keyv({ namespace, throwOnErrors: true });
  watchErrors(keyv, opts.onError).opened();
  return { keyv, kind: "memory", displayUrl: "memory://", shared: new MemorySharedState(), close: onceClose(async () => {}) };
}
