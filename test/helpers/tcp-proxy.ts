/**
 * A TCP proxy in front of a local server, to take it off the network and bring it back on the same address: `down()`
 * refuses new connections and cuts open ones (what a bot sees when Telegram is unreachable), `up()` listens again.
 * The server behind it keeps its state meanwhile (messages sent while the proxy is down wait there).
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: the address clients use. */
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Cuts every open connection and stops listening: connecting is refused until up(). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((client) => {
    connections++;
    const upstream = connect(Number(targetPort), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as { port: number }).port;
  let listening = true;
  const down = async () => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    down,
    async up() {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    close: down,
  };
}
