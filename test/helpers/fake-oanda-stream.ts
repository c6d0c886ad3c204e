import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for OANDA's pricing stream (`/v3/accounts/{id}/pricing/stream`): newline-
 * delimited JSON, a PRICE line per instrument every `tickMs` and a HEARTBEAT every second. It
 * counts the streams opened and open, so a test can see how many the fleet holds. REST pricing
 * is answered too, with the latest prices. Given the instruments it `lists`, it refuses a request
 * naming any other as OANDA does: the whole request, 400, on pricing and on the stream alike.
 */
export class FakeOandaStream {
  /** Streams opened since start. */
  opened = 0;
  /** Most streams open at once since the last `resetPeak`. */
  peak = 0;
  /** While true, open streams say nothing: no tick, no heartbeat (a stream that died silently). */
  silent = false;
  /** Every request's path and query, in order. */
  readonly seen: string[] = [];
  private readonly open = new Set<ServerResponse>();
  private readonly server: Server;
  private sequence = 0;

  private constructor(
    private readonly tickMs: number,
    private readonly lists: ReadonlySet<string> | undefined,
  ) {
    this.server = createServer((request, response) => this.handle(request, response));
  }

  /** `lists`: the instruments the broker knows (default: any). */
  static async start(tickMs = 100, lists?: readonly string[]): Promise<FakeOandaStream> {
    const fake = new FakeOandaStream(tickMs, lists === undefined ? undefined : new Set(lists));
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Streams open now. */
  get streams(): number {
    return this.open.size;
  }

  resetPeak(): void {
    this.peak = this.open.size;
  }

  close(): Promise<void> {
    for (const response of this.open) response.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://fake');
    const instruments = (url.searchParams.get('instruments') ?? '').split(',').filter((item) => item !== '');
    this.seen.push(request.url ?? '');
    const { lists } = this;
    if (lists !== undefined && instruments.some((instrument) => !lists.has(instrument))) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errorMessage: "Invalid value specified for 'instruments'" }));
      return;
    }
    if (url.pathname.endsWith('/pricing/stream')) {
      this.stream(instruments, response);
      return;
    }
    if (url.pathname.endsWith('/pricing')) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ prices: instruments.map((instrument) => this.price(instrument)) }));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' }).end('{}');
  }

  private stream(instruments: readonly string[], response: ServerResponse): void {
    this.opened += 1;
    this.open.add(response);
    this.peak = Math.max(this.peak, this.open.size);
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    const ticks = setInterval(() => {
      if (this.silent) return;
      response.write(instruments.map((instrument) => `${JSON.stringify(this.price(instrument))}\n`).join(''));
    }, this.tickMs);
    const heartbeats = setInterval(() => {
      if (!this.silent) response.write(`${JSON.stringify({ type: 'HEARTBEAT', time: new Date().toISOString() })}\n`);
    }, 1_000);
    response.on('close', () => {
      clearInterval(ticks);
      clearInterval(heartbeats);
      this.open.delete(response);
    });
  }

  private price(instrument: string): Record<string, unknown> {
    this.sequence += 1;
    const bid = (1 + (this.sequence % 1000) / 100_000).toFixed(5);
    const ask = (1.0002 + (this.sequence % 1000) / 100_000).toFixed(5);
    return { type: 'PRICE', instrument, time: new Date().toISOString(), tradeable: true, bids: [{ price: bid, liquidity: 1_000_000 }], asks: [{ price: ask, liquidity: 1_000_000 }] };
  }
}
