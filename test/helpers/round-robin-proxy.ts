/**
 * A small HTTP load balancer for tests: each request goes to the next target in turn (round robin, per request); a
 * target that refuses the connection is skipped for that request, as Caddy or nginx would with passive health checks.
 */
import { createServer, request, type IncomingMessage, type Server } from "node:http";

export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Requests forwarded, per target. */
  readonly forwarded: number[];
  /** Requests no target answered (502). */
  failed(): number;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(targets: number[]): Promise<RoundRobinProxy> {
  let next = 0;
  let failed = 0;
  const forwarded = targets.map(() => 0);
  const forward = (port: number, req: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
      const out = request({ host: "127.0.0.1", port, method: req.method, path: req.url, headers: { ...req.headers, connection: "close" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      out.on("error", reject);
      out.end(body);
    });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        for (let tried = 0; tried < targets.length; tried++) {
          const i = next++ % targets.length;
          try {
            const answer = await forward(targets[i]!, req, body);
            forwarded[i]!++;
            res.writeHead(answer.status, { "content-type": answer.headers["content-type"] ?? "text/plain" }).end(answer.body);
            return;
          } catch {
            // Down: the next target gets the request.
          }
        }
        failed++;
        res.writeHead(502).end();
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    failed: () => failed,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
