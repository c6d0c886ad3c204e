import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake broker does with one request. */
export type Reply =
  /** `delayMs`: answered only after that long (a slow broker that does answer in the end). */
  | { readonly status: number; readonly body: unknown; readonly headers?: Record<string, string>; readonly delayMs?: number }
  | { readonly raw: string; readonly status?: number }
  | { readonly hangMs: number };

export interface SeenRequest {
  readonly url: string;
  readonly authorization: string | undefined;
}

/**
 * A local stand-in for the OANDA v20 REST API. Each request takes the next scripted reply
 * (the last one repeats), so a test reads as the sequence of answers the broker gives.
 */
export class FakeOanda {
  readonly seen: SeenRequest[] = [];
  private replies: Reply[] = [];
  private readonly server: Server;

  private constructor() {
    this.server = createServer((request, response) => this.handle(request, response));
  }

  static async start(): Promise<FakeOanda> {
    const fake = new FakeOanda();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  script(...replies: Reply[]): void {
    this.replies = replies;
    this.seen.length = 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    this.seen.push({ url: request.url ?? '', authorization: request.headers.authorization });
    const reply = (this.replies.length > 1 ? this.replies.shift() : this.replies[0]) ?? { status: 404, body: {} };
    if ('hangMs' in reply) {
      const timer = setTimeout(() => response.end('{}'), reply.hangMs);
      response.on('close', () => clearTimeout(timer));
      return;
    }
    if ('raw' in reply) {
      response.writeHead(reply.status ?? 200, { 'content-type': 'application/json' }).end(reply.raw);
      return;
    }
    const send = () => response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body));
    if (reply.delayMs === undefined) {
      send();
      return;
    }
    const timer = setTimeout(send, reply.delayMs);
    response.on('close', () => clearTimeout(timer));
  }
}

export const pricingBody = (...instruments: [string, string, string][]) => ({
  time: '2026-11-25T10:00:00.000000000Z',
  prices: instruments.map(([instrument, bid, ask]) => ({
    type: 'PRICE',
    instrument,
    time: '2026-11-25T10:00:00.000000000Z',
    tradeable: true,
    bids: [{ price: bid, liquidity: 1000000 }],
    asks: [{ price: ask, liquidity: 1000000 }],
    closeoutBid: bid,
    closeoutAsk: ask,
  })),
});

export const candlesBody = (instrument: string, granularity: string) => ({
  instrument,
  granularity,
  candles: [
    { complete: true, volume: 120, time: '2026-11-25T08:00:00.000000000Z', mid: { o: '1.08500', h: '1.08620', l: '1.08410', c: '1.08590' } },
    { complete: false, volume: 40, time: '2026-11-25T09:00:00.000000000Z', mid: { o: '1.08590', h: '1.08600', l: '1.08550', c: '1.08570' } },
  ],
});
