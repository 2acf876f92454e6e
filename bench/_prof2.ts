import o200k from "gpt-tokenizer/encoding/o200k_base";
import { BpeCounter, type BpeTables } from "../src/ai/bpe-counter.js";
const core = (o200k as unknown as { bytePairEncodingCoreProcessor: BpeTables }).bytePairEncodingCoreProcessor;
const c = new BpeCounter(core, { cacheSize: 0 });
for (const p of ["人工智能机器学习", "看了山和海也看了人山", "abcdefghijklmnopqrstuvwx", "é"]) {
  c.count(p);
  const s = performance.now();
  for (let i = 0; i < 100000; i++) c.count(p);
  console.log(p, ((performance.now() - s) / 100).toFixed(2), "µs");
}
