/**
 * Every text the bot writes itself exists in English and Chinese and renders (a Fluent syntax error silently drops a
 * message and the user would see "{key}").
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { createI18n, LOCALES } from "./i18n.js";

const DIR = resolve(import.meta.dirname, "../../locales");

function messageIds(locale: string): Set<string> {
  const ids = new Set<string>();
  for (const file of readdirSync(join(DIR, locale))) {
    if (!file.endsWith(".ftl")) continue;
    for (const line of readFileSync(join(DIR, locale, file), "utf8").split("\n")) {
      const m = /^([a-z][a-z0-9-]*)\s*=/.exec(line);
      if (m) ids.add(m[1]!);
    }
  }
  return ids;
}

describe("locales", () => {
  const i18n = createI18n();
  const en = messageIds("en");

  it("has the same messages in every language", () => {
    expect(en.size).toBeGreaterThan(20);
    for (const locale of LOCALES) expect([...messageIds(locale)].sort()).toEqual([...en].sort());
  });

  it("renders every message in every language", () => {
    // Every variable any message uses, so each message can be rendered.
    const vars: Record<string, string> = {};
    for (const locale of LOCALES) {
      for (const file of readdirSync(join(DIR, locale))) {
        for (const m of readFileSync(join(DIR, locale, file), "utf8").matchAll(/\{\s*\$([A-Za-z0-9_-]+)/g)) vars[m[1]!] = "X";
      }
    }
    for (const locale of LOCALES) {
      for (const id of en) {
        const text = i18n.t(locale, id, vars);
        expect(text, `${locale}: ${id}`).not.toBe(`{${id}}`);
        expect(text.trim().length, `${locale}: ${id}`).toBeGreaterThan(0);
      }
    }
  });
});
