/**
 * Import direction in src/, checked by `npm run check:deps` (and CI):
 *
 *   main → app → features → bot → services → ai, telegram, storage, ipfs → util
 *
 * A layer imports only layers below it; no feature imports another feature; config.ts is read by app, features,
 * bot and services, and itself uses only ai, storage and util. No cycles, type-only imports included. Unit tests
 * (x.test.ts beside their module) may import anything, including the test servers.
 * See docs/ARCHITECTURE.md for what each layer holds.
 */
const notTest = "\\.test\\.ts$";
const top = "^src/(main\\.ts$|app\\.ts$|app/)";

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle ties modules together so none can be understood (or tested) alone.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "util-is-a-leaf",
      severity: "error",
      comment: "src/util holds leaf helpers; they import nothing else of the bot.",
      from: { path: "^src/util/", pathNot: notTest },
      to: { path: "^src/", pathNot: "^src/util/" },
    },
    {
      name: "lower-layers-import-only-util",
      severity: "error",
      comment: "ai, telegram, storage and ipfs never see the bot, each other, or the configuration: only src/util.",
      from: { path: "^src/(ai|telegram|storage|ipfs)/", pathNot: notTest },
      to: { path: "^src/", pathNot: "^src/($1|util)/" },
    },
    {
      name: "services-below-bot",
      severity: "error",
      comment: "Services never see a grammY context: no imports from bot, features, app or main.",
      from: { path: "^src/services/", pathNot: notTest },
      to: { path: `^src/(bot/|features/)|${top}` },
    },
    {
      name: "bot-below-features",
      severity: "error",
      comment: "The bot gets its features and menus from app (createBot's arguments), never imports them.",
      from: { path: "^src/bot/", pathNot: notTest },
      to: { path: `^src/features/|${top}` },
    },
    {
      name: "features-below-app",
      severity: "error",
      from: { path: "^src/features/", pathNot: notTest },
      to: { path: top },
    },
    {
      name: "no-feature-imports-another",
      severity: "error",
      comment: "What two features share moves down into src/bot (or below). Only features/index.ts lists them all.",
      from: { path: "^src/features/([^/]+)", pathNot: `^src/features/index\\.ts$|${notTest}` },
      to: { path: "^src/features/", pathNot: "^src/features/$1" },
    },
    {
      name: "app-below-main",
      severity: "error",
      from: { path: "^src/(app\\.ts$|app/)", pathNot: notTest },
      to: { path: "^src/main\\.ts$" },
    },
    {
      name: "config-imports-only-ai-storage-util",
      severity: "error",
      comment: "config.ts parses with the parsers of the layers it configures (prices, STORE_URL), nothing above.",
      from: { path: "^src/config\\.ts$" },
      to: { path: "^src/", pathNot: "^src/(ai|storage|util)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a cycle through types is still a cycle for whoever reads the code.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".json"],
    },
  },
};
