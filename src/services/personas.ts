/**
 * Personas: named system prompts in English and Chinese that /persona offers. The built-in ones live in one data
 * file (locales/personas.yaml); PERSONAS_FILE (JSON or YAML, the same shape) adds presets or replaces them by id.
 * Both are read and checked once at start-up: a file with a mistake stops the bot with one line naming it, rather
 * than leaving a chat with a persona that silently is not there.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/** The languages a persona's name and prompt come in (the bot's own locales). */
export type PersonaLocale = "en" | "zh";

export interface Persona {
  id: string;
  name: Record<PersonaLocale, string>;
  prompt: Record<PersonaLocale, string>;
}

/** The id of the preset a chat uses when nobody chose one: the bot's own prompt. */
export const DEFAULT_PERSONA_ID = "default";
/** Not a preset: the chat's own /system text. Reserved, so no persona file can take it. */
export const CUSTOM_PERSONA_ID = "custom";

/** The built-in presets, beside the bot's other texts (shipped with locales/ in every install). */
export const BUILTIN_PERSONAS_PATH = fileURLToPath(new URL("../../locales/personas.yaml", import.meta.url));

/** A persona file that cannot be used; the message is one line, naming the file and the problem. */
export class PersonaFileError extends Error {
  override readonly name = "PersonaFileError";

  constructor(
    /** The file at fault. */
    readonly path: string,
    problem: string,
  ) {
    super(`${path} ${problem}`);
  }
}

/** A text in both languages, or one text for both. Button labels stay short (Telegram cuts long ones). */
const localized = (max: number) => {
  const text = (missing: string) =>
    z.string({ error: missing }).trim().min(1, "is empty").max(max, `is longer than ${max} characters`);
  return z.preprocess(
    (v) => (typeof v === "string" ? { en: v } : v),
    z
      .object({ en: text("is missing"), zh: text("must be a text").optional() }, { error: "must be a text or { en, zh }" })
      .transform((v): Record<PersonaLocale, string> => ({ en: v.en, zh: v.zh ?? v.en })),
  );
};

const personaSchema = z.object(
  {
    // Ids travel in callback data (64 bytes at most) and are stored in chat settings.
    id: z
      .string({ error: "is missing" })
      .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "must be 1-32 lowercase letters, digits, - or _")
      .refine((id) => id !== CUSTOM_PERSONA_ID, `"${CUSTOM_PERSONA_ID}" is reserved for the chat's /system text`),
    name: localized(40),
    prompt: localized(20_000),
  },
  { error: "must be an object with id, name and prompt" },
);

const fileSchema = z
  .array(personaSchema, { error: "must be a list of personas (id, name, prompt)" })
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [i, p] of list.entries()) {
      if (seen.has(p.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `"${p.id}" appears twice` });
      seen.add(p.id);
    }
  });

/** Where in the file a zod issue is: `personas[2].prompt.en`. */
function where(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : `${out}.${String(key)}`), "personas");
}

/** Reads and checks one persona file (JSON by its .json extension, YAML otherwise); throws PersonaFileError. */
export function readPersonaFile(path: string): Persona[] {
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PersonaFileError(path, `cannot be read (${code === "ENOENT" ? "no such file" : (code ?? String(err))})`);
  }
  let raw: unknown;
  const json = extname(path).toLowerCase() === ".json";
  try {
    raw = json ? JSON.parse(source) : parseYaml(source);
  } catch (err) {
    // The first line only: YAML errors go on with a picture of the line, which does not fit one line.
    const message = (err instanceof Error ? err.message : String(err)).split("\n")[0]!.trim();
    throw new PersonaFileError(path, `is not valid ${json ? "JSON" : "YAML"}: ${message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? `${where(issue.path)} ` : "";
    throw new PersonaFileError(path, `has a mistake: ${at}${issue.message}`);
  }
  return parsed.data;
}

export interface PersonaCatalogueOptions {
  /** PERSONAS_FILE: presets added to the built-in ones, or replacing them by id. */
  file?: string;
  /** SYSTEM_PROMPT, when the operator set it: the default preset's prompt in every language. */
  defaultPrompt?: string;
  /** The built-in file (tests point elsewhere). */
  builtinPath?: string;
}

/** The presets /persona offers, in order: the built-in ones (replaced in place), then the file's new ones. */
export class PersonaCatalogue {
  private readonly byId: Map<string, Persona>;

  constructor(personas: readonly Persona[]) {
    this.byId = new Map(personas.map((p) => [p.id, p]));
  }

  /** Reads the built-in presets and PERSONAS_FILE; throws PersonaFileError naming the file at fault. */
  static load(opts: PersonaCatalogueOptions = {}): PersonaCatalogue {
    const merged = new Map<string, Persona>();
    for (const p of readPersonaFile(opts.builtinPath ?? BUILTIN_PERSONAS_PATH)) merged.set(p.id, p);
    if (opts.file) for (const p of readPersonaFile(opts.file)) merged.set(p.id, p);
    const fallback = merged.get(DEFAULT_PERSONA_ID);
    if (opts.defaultPrompt) {
      const name = fallback?.name ?? { en: "Default assistant", zh: "默认助手" };
      merged.set(DEFAULT_PERSONA_ID, { id: DEFAULT_PERSONA_ID, name, prompt: { en: opts.defaultPrompt, zh: opts.defaultPrompt } });
    } else if (!fallback) {
      throw new PersonaFileError(opts.builtinPath ?? BUILTIN_PERSONAS_PATH, `has no persona with id "${DEFAULT_PERSONA_ID}" (the bot's own prompt)`);
    }
    return new PersonaCatalogue([...merged.values()]);
  }

  list(): Persona[] {
    return [...this.byId.values()];
  }

  get(id: string): Persona | undefined {
    return this.byId.get(id);
  }

  /** The default preset: always there (load() makes sure). */
  get fallback(): Persona {
    return this.byId.get(DEFAULT_PERSONA_ID)!;
  }
}

/** What a chat (or a member) chose: a preset's id, the chat's custom /system text, or nothing yet. */
export interface PersonaChoiceInput {
  /** The member's own choice (groups with one history per member): a preset id or CUSTOM_PERSONA_ID. */
  member?: string;
  /** The chat's choice (chat settings): a preset id; unset means custom text if there is one, else the default. */
  chat?: string;
  /** The chat's /system text, if any. */
  customPrompt?: string;
}

/** The system prompt in force and which choice it is (for the ✓ in the keyboard). */
export interface PersonaInForce {
  /** A preset id, or CUSTOM_PERSONA_ID for the chat's /system text. */
  id: string;
  prompt: string;
  persona?: Persona;
}

/**
 * Resolves the system prompt in force: the member's choice wins (per-member groups), then the chat's; a preset that
 * no longer exists (the operator removed it from PERSONAS_FILE) and "custom" without a /system text fall through
 * to what comes next, ending at the default preset.
 */
export function personaInForce(catalogue: PersonaCatalogue, choice: PersonaChoiceInput, locale: PersonaLocale): PersonaInForce {
  for (const id of [choice.member, choice.chat]) {
    if (id === undefined) continue;
    if (id === CUSTOM_PERSONA_ID) {
      if (choice.customPrompt) return { id, prompt: choice.customPrompt };
      continue;
    }
    const persona = catalogue.get(id);
    if (persona) return { id, prompt: persona.prompt[locale], persona };
  }
  if (choice.customPrompt) return { id: CUSTOM_PERSONA_ID, prompt: choice.customPrompt };
  const persona = catalogue.fallback;
  return { id: persona.id, prompt: persona.prompt[locale], persona };
}
