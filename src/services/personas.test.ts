import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SYSTEM_PROMPT } from "../config.js";
import { CUSTOM_PERSONA_ID, PersonaCatalogue, PersonaFileError, personaInForce, readPersonaFile } from "./personas.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "personas-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

function problem(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(PersonaFileError);
    return (err as Error).message;
  }
  throw new Error("no error");
}

describe("built-in personas", () => {
  const builtin = PersonaCatalogue.load();

  it("offers the five presets, each named and prompted in English and Chinese", () => {
    expect(builtin.list().map((p) => p.id)).toEqual(["default", "translator", "code-reviewer", "concise", "teacher"]);
    for (const p of builtin.list()) {
      expect(p.name.en).not.toBe(p.name.zh);
      expect(p.prompt.en).not.toBe(p.prompt.zh);
      expect(p.prompt.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(p.prompt.en).not.toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it("keeps the default preset's English prompt the bot's default system prompt", () => {
    expect(builtin.fallback.prompt.en).toBe(DEFAULT_SYSTEM_PROMPT);
  });

  it("uses SYSTEM_PROMPT for the default preset in both languages when the operator set it", () => {
    const operator = PersonaCatalogue.load({ defaultPrompt: "Operator's rules." });
    expect(operator.fallback).toMatchObject({ name: builtin.fallback.name, prompt: { en: "Operator's rules.", zh: "Operator's rules." } });
  });
});

describe("PERSONAS_FILE", () => {
  it("adds presets and replaces others by id, from YAML or JSON", async () => {
    const yaml = await file(
      "p.yaml",
      "- id: lawyer\n  name: { en: Lawyer, zh: 律师 }\n  prompt:\n    en: You are a lawyer.\n    zh: 你是律师。\n- id: teacher\n  name: Tutor\n  prompt: Teach kindly.\n",
    );
    const fromYaml = PersonaCatalogue.load({ file: yaml });
    expect(fromYaml.list().map((p) => p.id)).toEqual(["default", "translator", "code-reviewer", "concise", "teacher", "lawyer"]);
    expect(fromYaml.get("lawyer")).toEqual({ id: "lawyer", name: { en: "Lawyer", zh: "律师" }, prompt: { en: "You are a lawyer.", zh: "你是律师。" } });
    // One text serves both languages; a missing zh falls back to en.
    expect(fromYaml.get("teacher")).toEqual({ id: "teacher", name: { en: "Tutor", zh: "Tutor" }, prompt: { en: "Teach kindly.", zh: "Teach kindly." } });

    const json = await file("p.json", JSON.stringify([{ id: "poet", name: { en: "Poet" }, prompt: { en: "Rhyme." } }]));
    expect(PersonaCatalogue.load({ file: json }).get("poet")).toEqual({ id: "poet", name: { en: "Poet", zh: "Poet" }, prompt: { en: "Rhyme.", zh: "Rhyme." } });
  });

  it("names the file and the problem in one line", async () => {
    const missing = join(dir, "nope.yaml");
    expect(problem(() => readPersonaFile(missing))).toBe(`${missing} cannot be read (no such file)`);

    const badYaml = await file("bad.yaml", "- id: a\n  name: [unclosed\n");
    const yamlProblem = problem(() => readPersonaFile(badYaml));
    expect(yamlProblem).toMatch(new RegExp(`^${badYaml} is not valid YAML: .+`));
    expect(yamlProblem).not.toContain("\n");

    const badJson = await file("bad.json", "[{ id: 1 }]");
    expect(problem(() => readPersonaFile(badJson))).toMatch(new RegExp(`^${badJson} is not valid JSON: .+`));

    const noPrompt = await file("np.yaml", "- id: a\n  name: A\n");
    expect(problem(() => readPersonaFile(noPrompt))).toBe(`${noPrompt} has a mistake: personas[0].prompt must be a text or { en, zh }`);
    const noEn = await file("ne.yaml", "- id: a\n  name: A\n  prompt: { zh: 中文 }\n");
    expect(problem(() => readPersonaFile(noEn))).toBe(`${noEn} has a mistake: personas[0].prompt.en is missing`);
    const reserved = await file("r.yaml", "- id: custom\n  name: A\n  prompt: B\n");
    expect(problem(() => readPersonaFile(reserved))).toMatch(/personas\[0\]\.id "custom" is reserved/);
    const badId = await file("id.yaml", "- id: Has Spaces\n  name: A\n  prompt: B\n");
    expect(problem(() => readPersonaFile(badId))).toMatch(/personas\[0\]\.id must be 1-32 lowercase letters/);
    const twice = await file("t.yaml", "- { id: a, name: A, prompt: B }\n- { id: a, name: C, prompt: D }\n");
    expect(problem(() => readPersonaFile(twice))).toBe(`${twice} has a mistake: personas[1].id "a" appears twice`);
    const notList = await file("o.yaml", "id: a\n");
    expect(problem(() => readPersonaFile(notList))).toBe(`${notList} has a mistake: must be a list of personas (id, name, prompt)`);
    const empty = await file("e.yaml", "");
    expect(problem(() => readPersonaFile(empty))).toBe(`${empty} has a mistake: must be a list of personas (id, name, prompt)`);
  });
});

describe("personaInForce", () => {
  const catalogue = PersonaCatalogue.load();
  const teacher = catalogue.get("teacher")!;

  it("is the default preset in the user's language when nobody chose", () => {
    expect(personaInForce(catalogue, {}, "zh")).toMatchObject({ id: "default", prompt: catalogue.fallback.prompt.zh });
  });

  it("is the chat's custom text when no preset is chosen, and a chosen preset over it", () => {
    expect(personaInForce(catalogue, { customPrompt: "Mine." }, "en")).toEqual({ id: CUSTOM_PERSONA_ID, prompt: "Mine." });
    expect(personaInForce(catalogue, { chat: "teacher", customPrompt: "Mine." }, "en")).toEqual({ id: "teacher", prompt: teacher.prompt.en, persona: teacher });
  });

  it("lets a member's choice win, custom included, and falls through choices that no longer exist", () => {
    expect(personaInForce(catalogue, { member: "teacher", chat: "concise" }, "zh")).toMatchObject({ id: "teacher", prompt: teacher.prompt.zh });
    expect(personaInForce(catalogue, { member: CUSTOM_PERSONA_ID, chat: "concise", customPrompt: "Mine." }, "en")).toEqual({ id: CUSTOM_PERSONA_ID, prompt: "Mine." });
    expect(personaInForce(catalogue, { member: CUSTOM_PERSONA_ID, chat: "concise" }, "en")).toMatchObject({ id: "concise" });
    expect(personaInForce(catalogue, { member: "removed", chat: "gone" }, "en")).toMatchObject({ id: "default" });
  });
});
