import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a free port whose server's answers arrive `delayMs` late, in order: a slow link
 * to one server (a distant or loaded sentinel) that leaves the others fast.
 */
export class SlowProxy {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(targetPort: number, delayMs: number) {
    this.server = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.on('data', (chunk) => upstream.write(chunk));
      upstream.on('data', (chunk) => setTimeout(() => client.write(chunk), delayMs));
      client.on('close', () => upstream.destroy());
      // Once the answers still on their way have arrived.
      upstream.on('close', () => setTimeout(() => client.destroy(), delayMs));
    });
  }

  static async start(targetPort: number, delayMs: number): Promise<SlowProxy> {
    const proxy = new SlowProxy(targetPort, delayMs);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy is not listening');
    return address.port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
