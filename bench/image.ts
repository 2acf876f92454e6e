/**
 * /image latency: from the image bytes arriving (the OpenAI test server answering the generation) to the photo
 * visible in the chat (sendPhoto answered by the Bot API test server), with the Kubo test server fast and slow.
 * The photo must never wait for the pin: with a slow node the photo time stays where it is with a fast one and
 * only the caption edit (CID and link) comes later.
 *
 *   npx tsx bench/image.ts
 *
 * The bot runs in-process (test/helpers/harness.ts) against the loopback test servers; every Bot API answer gets a
 * simulated round trip (BENCH_RTT_MS, default 20 ms). Images are 1024×1024 PNGs (~770 KB), sent as b64_json.
 */
import { pathToFileURL } from "node:url";
import { newPrivateChat, startHarness, type Harness } from "../test/helpers/harness.js";
import { startKuboServer, type KuboServer } from "../test/servers/kubo.js";
import type { Call } from "../test/servers/bot-api.js";
import { makePng } from "../test/fixtures/images.js";

export interface ImageBenchRow {
  ipfs: "fast" | "slow";
  /** Delay of every Kubo RPC (0 when fast). */
  kuboDelayMs: number;
  runs: number;
  imageBytes: number;
  /** Bytes arriving → sendPhoto answered. */
  photoMs: { p50: number; max: number };
  /** Bytes arriving → caption edited with the CID. */
  captionMs: { p50: number; max: number };
  /** True when every photo was visible before the node could have answered the pin (slow) — the target. */
  photoBeforePin: boolean;
}

export interface ImageBenchOptions {
  runs?: number;
  slowMs?: number;
  rttMs?: number;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

export async function runImageBench(opts: ImageBenchOptions = {}): Promise<ImageBenchRow[]> {
  const runs = opts.runs ?? 8;
  const slowMs = opts.slowMs ?? 2000;
  const rttMs = opts.rttMs ?? Number(process.env.BENCH_RTT_MS ?? 20);
  const kubo = await startKuboServer();
  let h: Harness | undefined;
  try {
    h = await startHarness({
      env: { IPFS_API_URL: kubo.apiUrl, IPFS_GATEWAY_URL: "https://gateway.test/ipfs/", LOG_LEVEL: "warn" },
      telegram: { latencyMs: rttMs },
    });
    const rows: ImageBenchRow[] = [];
    // Warm-up: first-use costs (module loading, connection set-up) are not what is measured.
    await measure(h, kubo, { mode: "up", slowMs: 0, runs: 1, seedBase: 900 });
    rows.push(await measure(h, kubo, { mode: "up", slowMs: 0, runs, seedBase: 0 }));
    rows.push(await measure(h, kubo, { mode: "slow", slowMs, runs, seedBase: 100 }));
    return rows;
  } finally {
    await h?.close();
    await kubo.close();
  }
}

async function measure(
  h: Harness,
  kubo: KuboServer,
  s: { mode: "up" | "slow"; slowMs: number; runs: number; seedBase: number },
): Promise<ImageBenchRow> {
  kubo.mode = s.mode;
  kubo.slowMs = s.slowMs;
  const photo: number[] = [];
  const caption: number[] = [];
  let imageBytes = 0;
  // Runs one after another: each measures one picture, not a queue of them.
  for (let i = 0; i < s.runs; i++) {
    const { user, chat } = newPrivateChat(h);
    const png = makePng(1024, 1024, s.seedBase + i);
    imageBytes = png.length;
    let bytesAt = 0;
    h.openai.enqueueImages(() => {
      bytesAt = performance.now();
      return { image: { bytes: png, format: "b64_json" } };
    });
    const seen = new Map<string, number>();
    const onCall = (call: Call) => {
      if (Number(call.params.chat_id) !== chat.id || call.status !== 200) return;
      if (!seen.has(call.method)) seen.set(call.method, performance.now());
    };
    h.telegram.on("call", onCall);
    try {
      const target = h.app.handled + 1;
      h.telegram.userSends({ chat: chat.id, from: user, text: `/image bench picture ${s.seedBase + i}` });
      await h.app.whenHandled(target, 60_000);
    } finally {
      h.telegram.off("call", onCall);
    }
    const sent = seen.get("sendPhoto");
    const edited = seen.get("editMessageCaption");
    if (sent === undefined || edited === undefined || bytesAt === 0) throw new Error(`run ${i}: no photo or no caption edit`);
    photo.push(sent - bytesAt);
    caption.push(edited - bytesAt);
  }
  kubo.mode = "up";
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    ipfs: s.mode === "up" ? "fast" : "slow",
    kuboDelayMs: s.slowMs,
    runs: s.runs,
    imageBytes,
    photoMs: { p50: round(percentile(photo, 50)), max: round(Math.max(...photo)) },
    captionMs: { p50: round(percentile(caption, 50)), max: round(Math.max(...caption)) },
    photoBeforePin: s.mode === "up" || photo.every((ms, i) => ms < s.slowMs && caption[i]! >= s.slowMs),
  };
}

export function formatImageBench(rows: ImageBenchRow[]): string {
  const header = ["IPFS", "Kubo delay", "runs", "photo p50", "photo max", "CID caption p50", "photo waited for pin"];
  const body = rows.map((r) => [
    r.ipfs,
    `${r.kuboDelayMs} ms`,
    String(r.runs),
    `${r.photoMs.p50} ms`,
    `${r.photoMs.max} ms`,
    `${r.captionMs.p50} ms`,
    r.photoBeforePin ? "no (PASS)" : "YES (FAIL)",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const size = rows[0] ? `${(rows[0].imageBytes / 1024).toFixed(0)} KB PNG` : "";
  return [
    `Image bytes arriving → photo visible (sendPhoto answered) and → caption with CID; ${size}`,
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...body.map(line),
  ].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runImageBench();
  console.log(formatImageBench(rows));
  process.exitCode = rows.every((r) => r.photoBeforePin) ? 0 : 1;
}
