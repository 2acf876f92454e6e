import { fileURLToPath } from "node:url";
import { I18n } from "@grammyjs/i18n";
import type { Context } from "grammy";

export type Locale = "en" | "zh";
export const LOCALES: readonly Locale[] = ["en", "zh"];

/** The bot's own texts live in locales/*.ftl (Fluent); this file sits two levels below the project root in src/ and in dist/. */
const LOCALES_DIR = fileURLToPath(new URL("../../locales", import.meta.url));

/** Telegram's language_code → one of our locales: Chinese of any variant is zh, everything else English. */
export function localeFor(languageCode: string | undefined): Locale {
  return languageCode?.toLowerCase().startsWith("zh") ? "zh" : "en";
}

export interface I18nOptions<C extends Context> {
  /** The language a chat chose (/settings), if any; it wins over the user's Telegram language. */
  chatLocale?: (ctx: C) => Promise<Locale | undefined> | Locale | undefined;
}

export function createI18n<C extends Context>(opts: I18nOptions<C> = {}): I18n<C> {
  const i18n = new I18n<C>({
    defaultLocale: "en",
    useSession: false,
    // Fluent wraps variables in Unicode isolation marks by default; in Telegram they only get in the way.
    fluentBundleOptions: { useIsolating: false },
    localeNegotiator: async (ctx) => {
      // A store hiccup must not cost the user their answer: fall back to their own language.
      const chosen = await Promise.resolve()
        .then(() => opts.chatLocale?.(ctx))
        .catch(() => undefined);
      return chosen ?? localeFor(ctx.from?.language_code);
    },
  });
  i18n.loadLocalesDirSync(LOCALES_DIR);
  return i18n;
}
