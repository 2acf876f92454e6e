// `npm run build`: compiles src/ to dist/ and writes the token tables beside the compiled tokenizer (see
// src/ai/bpe-table.ts). `npm ci` runs it once (the prepare script) and `npm start` again only when dist/ is older
// than the sources (scripts/build-if-stale.mjs), so starting the bot never waits for the TypeScript compiler.
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");

/** The compiled module, wherever src/ keeps it. */
function find(dir, name) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = find(path, name);
      if (found) return found;
    } else if (entry.name === name) {
      return path;
    }
  }
  return undefined;
}

// Sources saved while this runs are newer than the build: the stamp gets the time the build began.
const began = new Date();
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
// A clean dist/: files of moved or deleted sources must not linger (and be started by mistake).
rmSync(DIST, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit", cwd: ROOT });
const tables = find(DIST, "bpe-table.js");
if (!tables) throw new Error("build: dist/**/bpe-table.js not found after tsc");
const { writeTableFiles } = await import(pathToFileURL(tables).href);
await writeTableFiles();
// Last: build-if-stale.mjs compares the sources with this file's time, so a build that failed halfway is redone.
const stamp = join(DIST, ".built");
writeFileSync(stamp, `${began.toISOString()}\n`);
utimesSync(stamp, began, began);
