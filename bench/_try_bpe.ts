import o200k from "gpt-tokenizer/encoding/o200k_base";
import { clearMergeCache, countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { getEncoding } from "js-tiktoken";
import { get_encoding } from "tiktoken";
import { BpeCounter } from "../src/ai/bpe-counter.ts";
import { buildBenchText } from "./tokenizer.ts";
const core = (o200k as any).bytePairEncodingCoreProcessor;
let t0 = performance.now();
const c = new BpeCounter(core);
c.count("héllo 你好");
console.log("build ms", performance.now() - t0);
const text = buildBenchText(1_000_000);
const warm = buildBenchText(200_000, 7);
const js = getEncoding("o200k_base");
const w = get_encoding("o200k_base");
console.log("counts", c.count(text), js.encode(text).length, w.encode(text).length);
const time = (name: string, f: () => number, before?: () => void) => {
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) { before?.(); const s = performance.now(); f(); ms.push(performance.now() - s); }
  ms.sort((a, b) => a - b);
  console.log(name, "best MB/s", (1 / (ms[0] / 1000)).toFixed(2), "median", (1 / (ms[2] / 1000)).toFixed(2));
};
time("bpe-counter new", () => c.count(text), () => { c.clearCache(); c.count(warm); });
time("bpe-counter same", () => c.count(text));
time("wasm", () => w.encode(text).length);
time("gpt-tokenizer", () => countTokens(text), () => { clearMergeCache(); countTokens(warm); });
const zh = "看了山和海，也看了人山和人海。".repeat(3000);
time("long zh heap", () => c.count(zh.replace(/[，。]/g, "")), () => c.clearCache());
console.log(c.count(zh.replace(/[，。]/g, "")), js.encode(zh.replace(/[，。]/g, "")).length);
const re = new RegExp(core.tokenSplitRegex.source, "gu");
time("regex only", () => { let n = 0; re.lastIndex = 0; let m; while ((m = re.exec(text)) !== null) n++; return n; });
const byText = core.bytePairStringRankEncoder as Map<string, number>;
time("regex+map", () => { let n = 0; re.lastIndex = 0; let m; while ((m = re.exec(text)) !== null) if (byText.has(m[0])) n++; return n; });
{ let miss = 0, missBytes = 0, pieces = 0; re.lastIndex = 0; let m; while ((m = re.exec(text)) !== null) { pieces++; if (!byText.has(m[0])) { miss++; missBytes += Buffer.byteLength(m[0]); } } console.log({ pieces, miss, missBytes }); }
