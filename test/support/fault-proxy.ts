/**
 * A loopback TCP proxy for fault injection: it forwards bytes to a target, and on command
 * cuts every connection with a TCP RST, blackholes traffic while keeping the sockets open,
 * or refuses new connections. Tests put it between a client and a real server.
 */
import net from 'node:net';

export interface FaultProxyOptions {
  /** where to forward */
  target: { host: string; port: number };
  /** listen port on 127.0.0.1 (default 0: any free port) */
  port?: number;
}

interface Pair {
  client: net.Socket;
  server: net.Socket;
}

export class FaultProxy {
  private server: net.Server | null = null;
  private readonly pairs = new Set<Pair>();
  private blackholed = false;
  private refusing = false;
  /** connections accepted since start */
  accepted = 0;
  /** bytes dropped while blackholed */
  dropped = 0;
  port = 0;

  constructor(private readonly options: FaultProxyOptions) {}

  /** Start listening; resolves with the port. */
  async start(): Promise<number> {
    const server = net.createServer((client) => this.onConnection(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** `ws://127.0.0.1:<port><path>` */
  url(path = '/xmpp-websocket'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** Live connections. */
  get connections(): number {
    return this.pairs.size;
  }

  private onConnection(client: net.Socket): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    this.accepted++;
    const server = net.connect(this.options.target.port, this.options.target.host);
    const pair: Pair = { client, server };
    this.pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (this.blackholed) {
          this.dropped += chunk.length;
          return;
        }
        if (!to.destroyed) to.write(chunk);
      });
    };
    forward(client, server);
    forward(server, client);
    const end = (): void => {
      if (!this.pairs.delete(pair)) return;
      if (!client.destroyed) client.destroy();
      if (!server.destroyed) server.destroy();
    };
    client.on('close', end);
    server.on('close', end);
    client.on('error', () => undefined);
    server.on('error', () => undefined);
    client.on('end', () => server.end());
    server.on('end', () => client.end());
  }

  /** Drop every connection at once with a TCP RST, on both sides (like a lost network). */
  cut(): number {
    const n = this.pairs.size;
    for (const pair of [...this.pairs]) {
      this.pairs.delete(pair);
      if (!pair.client.destroyed) pair.client.resetAndDestroy();
      if (!pair.server.destroyed) pair.server.resetAndDestroy();
    }
    return n;
  }

  /** Silently discard all traffic in both directions while keeping the sockets open (or stop doing so). */
  blackhole(on = true): void {
    this.blackholed = on;
  }

  /** Reset new connections as soon as they arrive (or accept them again). */
  refuse(on = true): void {
    this.refusing = on;
  }

  /** Cut everything and stop listening. */
  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
