import { ModelError, type ModelErrorKind } from "../ai/errors.js";

/** The locale key of the short note the user gets for each way a model call fails. */
const NOTE_KEYS: Record<ModelErrorKind, string> = {
  auth: "error-auth",
  quota: "error-quota",
  rate_limit: "error-rate-limit",
  server: "error-server",
  timeout: "error-timeout",
  interrupted: "error-interrupted",
  connection: "error-connection",
  refused: "error-refused",
  bad_request: "error-bad-request",
  length: "answer-length",
  aborted: "error-aborted",
};

/** The locale key of the note for a failed model call ("error-unexpected" for anything that is not a ModelError). */
export function modelErrorNoteKey(err: unknown): string {
  return err instanceof ModelError ? NOTE_KEYS[err.kind] : "error-unexpected";
}
