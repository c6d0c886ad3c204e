import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a free port, in front of one local server: the address clients keep while what
 * is behind it changes, as a virtual IP or a managed service's endpoint does in a failover
 * (`retarget`). Its server's answers may arrive `delayMs` late, in order: a slow link to one
 * server (a distant or loaded sentinel) that leaves the others fast.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(
    private targetPort: number,
    delayMs: number,
  ) {
    this.server = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.on('data', (chunk) => upstream.write(chunk));
      upstream.on('data', (chunk) => (delayMs === 0 ? client.write(chunk) : setTimeout(() => client.write(chunk), delayMs)));
      client.on('close', () => upstream.destroy());
      // Once the answers still on their way have arrived.
      upstream.on('close', () => setTimeout(() => client.destroy(), delayMs));
    });
  }

  static async start(targetPort: number, options: { delayMs?: number } = {}): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, options.delayMs ?? 0);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy is not listening');
    return address.port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** From now on to `port`; the connections open now are cut, as a failover cuts them. */
  retarget(port: number): void {
    this.targetPort = port;
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
