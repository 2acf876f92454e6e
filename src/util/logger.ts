import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

/**
 * JSON logs with secrets removed. Object paths are redacted by pino; on top of that every written line is scrubbed
 * of the literal secrets, because a token can hide inside an error message or a URL string.
 */
export function createLogger(opts: { level: string; secrets: string[]; destination?: DestinationStream }): Logger {
  const secrets = opts.secrets.filter((s) => s.length >= 6);
  return pino(
    {
      level: opts.level,
      redact: {
        paths: ["token", "apiKey", "*.token", "*.apiKey", "headers.authorization", "*.headers.authorization"],
        censor: "[redacted]",
      },
      hooks: {
        streamWrite(line) {
          let out = line;
          for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join("[redacted]");
          return out;
        },
      },
    },
    opts.destination,
  );
}
