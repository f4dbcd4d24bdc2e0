// A TCP proxy in front of PostgreSQL that a test can cut (the database "stops") and that counts the
// queries passing through it by reading the frontend protocol's message types.
import net from 'node:net';

export interface PgProxy {
  port: number;
  url(databaseUrl: string): string;
  /** Simple-query ('Q') and extended-protocol parse/execute messages seen since the last reset. */
  queries(): number;
  resetCount(): void;
  /** Drops every connection and refuses new ones. */
  stop(): Promise<void>;
  /** Accepts connections again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startPgProxy(target = { host: '127.0.0.1', port: 5432 }): Promise<PgProxy> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;

  const onConnection = (client: net.Socket) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    let started = false;
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // The startup message has no type byte; every later frontend message is type + int32 length.
      for (;;) {
        if (!started) {
          if (pending.length < 4) break;
          const len = pending.readInt32BE(0);
          if (pending.length < len) break;
          const code = pending.length >= 8 ? pending.readInt32BE(4) : 0;
          pending = pending.subarray(len);
          // SSLRequest (80877103) is followed by another startup message.
          if (code !== 80877103) started = true;
          continue;
        }
        if (pending.length < 5) break;
        const len = pending.readInt32BE(1);
        if (pending.length < len + 1) break;
        const type = String.fromCharCode(pending[0] ?? 0);
        if (type === 'Q' || type === 'E') count++;
        pending = pending.subarray(len + 1);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer(onConnection);
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server?.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });

  await listen();
  return {
    get port() {
      return port;
    },
    url(databaseUrl: string) {
      const u = new URL(databaseUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    queries: () => count,
    resetCount: () => {
      count = 0;
    },
    stop,
    start: listen,
    close: stop,
  };
}
