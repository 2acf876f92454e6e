/**
 * Entry point: `npm start`. Reads .env and the environment, starts the bot, and stops it gracefully on SIGINT or
 * SIGTERM. Configuration problems end the process with one line naming the variable, without a stack trace.
 */
import { ConfigError, loadConfig, loadDotEnv } from "./config.js";
import { StartupError } from "./app/startup-error.js";

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  // The bot's modules (grammY, openai, the stores…) load only once the configuration is known to be good: a mistake
  // is reported at once, without waiting for them.
  const { startApp } = await import("./app.js");
  const app = await startApp(config);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      // A second signal while stopping means "now".
      process.once(signal, () => process.exit(130));
      void app.stop(signal);
    });
  }
  // Nothing may kill the process: a stray rejection is logged, not fatal.
  process.on("unhandledRejection", (reason) => app.deps.log.error({ err: reason }, "unhandled rejection"));
  await app.stopped;
  process.exit(0);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof StartupError) {
    process.stderr.write(`Cannot start: ${err.message}\n`);
  } else {
    process.stderr.write(`Cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
