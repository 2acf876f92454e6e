/** Start-up failed for a reason the operator must fix; main.ts prints the message as one line. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}
