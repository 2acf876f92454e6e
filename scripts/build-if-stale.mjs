// Builds only when dist/ is older than what it is built from. `npm ci` runs it once (the prepare script: a fresh
// clone is built there), and `npm start` again (scripts/start.mjs) for a checkout whose sources changed since;
// otherwise it costs a few milliseconds and no compiler, so a restart is not held up by TypeScript. A production
// image has dist/ and neither the sources nor TypeScript: nothing to do.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Written by scripts/build.mjs when a build has finished, dated when it began. */
const STAMP = join(ROOT, "dist", ".built");
const INPUTS = ["tsconfig.json", "tsconfig.build.json", "package-lock.json", "scripts/build.mjs"];

/** Newest modification time under `dir`, tests left out (they are not built). */
function newest(dir) {
  // A deleted or renamed file shows only in its folder's time.
  let time = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) time = Math.max(time, newest(path));
    else if (!entry.name.endsWith(".test.ts")) time = Math.max(time, statSync(path).mtimeMs);
  }
  return time;
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : 0);

/**
 * Runs scripts/build.mjs when dist/ is missing or older than the sources. Without TypeScript (npm ci --omit=dev) it
 * cannot: for `npm start` (`required`) with no dist/ at all that ends the process with one line; the prepare script
 * goes on, so such an install still succeeds.
 */
export function buildIfStale({ required = false } = {}) {
  const src = join(ROOT, "src");
  if (!existsSync(src)) return;
  const built = mtime(STAMP);
  const inputs = Math.max(newest(src), ...INPUTS.map((f) => mtime(join(ROOT, f))));
  if (inputs <= built) return;
  if (existsSync(join(ROOT, "node_modules", "typescript"))) {
    process.stderr.write(built ? "dist/ is older than the sources: building…\n" : "building dist/…\n");
    execFileSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { stdio: "inherit", cwd: ROOT });
  } else if (required && !existsSync(join(ROOT, "dist", "main.js"))) {
    process.stderr.write("Cannot start: dist/ is not built and TypeScript is not installed (run npm ci, then npm start)\n");
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) buildIfStale();
