/** Every variable the bot reads is documented for operators: in .env.example and in the README's table. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { envSchema } from "./config.js";

const ROOT = resolve(import.meta.dirname, "..");

describe("configuration docs", () => {
  const variables = Object.keys(envSchema.shape);
  it("lists every variable in .env.example and the README", () => {
    const example = readFileSync(resolve(ROOT, ".env.example"), "utf8");
    const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
    expect(variables.length).toBeGreaterThan(15);
    expect(variables.filter((v) => !new RegExp(`^${v}=`, "m").test(example))).toEqual([]);
    expect(variables.filter((v) => !readme.includes(`\`${v}\``))).toEqual([]);
  });

  it("keeps the outside contract's names", () => {
    const contract = [
      "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_ROOT", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_VISION_MODEL",
      "OPENAI_IMAGE_MODEL", "STORE_URL", "IPFS_API_URL", "IPFS_GATEWAY_URL", "WEATHER_API_URL", "GEOCODING_API_URL",
      "BOT_MODE", "ALLOWED_USER_IDS", "ALLOWED_CHAT_IDS", "BOT_OWNER_IDS", "LOG_LEVEL",
    ];
    expect(variables).toEqual(expect.arrayContaining(contract));
  });
});
