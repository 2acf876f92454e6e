/**
 * Operations endpoints: GET /healthz (200 only when the store and the queue answer, 503 otherwise, so a load balancer
 * sends no updates to an instance that cannot keep them) and GET /metrics (Prometheus text, util/metrics.ts). Served
 * by the webhook's server (PORT) in webhook mode, and by a server of their own on METRICS_PORT in polling mode.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { metricsText } from "../util/metrics.js";

export const HEALTH_PATH = "/healthz";
export const METRICS_PATH = "/metrics";

/** How long a readiness probe may take before the instance counts as not ready (ms). */
const PROBE_TIMEOUT_MS = 2000;

/** Round trips proving the instance can take updates (the store, the queue). */
export type ReadinessProbe = () => Promise<void>;

/**
 * Answers /healthz and /metrics; returns false for any other path (the caller answers it). Only GET and HEAD.
 */
export function serveOps(req: IncomingMessage, res: ServerResponse, ready: ReadinessProbe): boolean {
  const path = new URL(req.url ?? "/", "http://ops").pathname;
  if (path !== HEALTH_PATH && path !== METRICS_PATH) return false;
  req.resume();
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", connection: "close" }).end();
    return true;
  }
  const answer = path === HEALTH_PATH ? health(ready) : metrics();
  void answer.then(({ status, type, body }) => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" }).end(req.method === "HEAD" ? undefined : body);
  });
  return true;
}

async function health(ready: ReadinessProbe): Promise<{ status: number; type: string; body: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([ready(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("timeout")), PROBE_TIMEOUT_MS)))]);
    return { status: 200, type: "text/plain", body: "ok\n" };
  } catch {
    // Which dependency failed is in the log; the probe itself says no more than "not ready".
    return { status: 503, type: "text/plain", body: "not ready\n" };
  } finally {
    clearTimeout(timer);
  }
}

async function metrics(): Promise<{ status: number; type: string; body: string }> {
  try {
    const { contentType, body } = await metricsText();
    return { status: 200, type: contentType, body };
  } catch {
    return { status: 500, type: "text/plain", body: "metrics failed\n" };
  }
}

/** The operations server of polling mode (METRICS_PORT). */
export async function startOpsServer(port: number, ready: ReadinessProbe): Promise<{ close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (!serveOps(req, res, ready)) {
      req.resume();
      res.writeHead(404, { connection: "close" }).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, resolve);
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
