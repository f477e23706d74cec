import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP port in front of a Postgres server that can stop listening for a while: connections
 * to it are refused (ECONNREFUSED, nothing listens), the open ones are cut, as when Aurora
 * pauses; then it listens again on the same port and forwards, as when it has resumed.
 */
export class PausablePort {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async open(target: URL): Promise<PausablePort> {
    const forwarder = new PausablePort(target.hostname, Number(target.port || 5432));
    await forwarder.listen();
    return forwarder;
  }

  /** `target` with its host and port replaced by this forwarder's. */
  urlFor(target: string): string {
    const url = new URL(target);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  /** Refuses every connection for `ms`, then forwards again; resolves when it listens again. */
  async refuseFor(ms: number): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, ms));
    await this.listen();
  }

  async close(): Promise<void> {
    await this.stop();
  }

  private listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      // The same port every time: a pool keeps the address it was given.
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
