import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

import { DEMO_INSTRUMENTS } from '../../src/market/instruments';
import { eventuallyPasses } from '../helpers/eventually';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';

/** Wide tick frames (many aliases of one field), so that a stalled reader fills the kernel's buffers within seconds. */
const ALIASES = 200;
const WIDE_PRICES = `subscription Wide($symbols: [String!]!) { prices(symbols: $symbols) { symbol ${Array.from({ length: ALIASES }, (_, i) => `m${i}: mid`).join(' ')} } }`;
const SIGNAL_EVENTS = 'subscription Events { signalEvents { id kind signal { id } } }';
const CREATE = 'mutation Create($input: CreateSignalInput!) { createSignal(input: $input) { id } }';
const MAX_QUEUED_EVENTS = 3;

/**
 * A client that stops reading, on a real socket: the gateway's writes fill the kernel's buffers,
 * then its Outbox holds one tick per instrument (conflated) and at most MAX_QUEUED_EVENTS signal
 * events; one more closes the connection with 4413. Meanwhile a client that reads goes on
 * receiving ticks: nobody waits for the slow one.
 */
describe('a subscriber that stops reading', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({
      MARKET_SIM_TICKS_PER_SECOND: '25',
      SUBSCRIPTION_MAX_QUEUED_EVENTS: String(MAX_QUEUED_EVENTS),
      GRAPHQL_MAX_ALIASES: String(ALIASES),
      GRAPHQL_MAX_TOKENS: String(ALIASES * 4 + 100),
      GRAPHQL_MAX_COST: '1000000',
    });
  }, 120_000);
  afterAll(async () => {
    await gateway.close();
  });

  it('is closed with 4413 once its bounded queue overflows, while a reading client keeps receiving ticks', async () => {
    const stalled = new WebSocket(`${gateway.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const frames: { id?: string; type: string }[] = [];
    stalled.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8')) as { id?: string; type: string }));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => stalled.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise((resolve) => stalled.once('open', resolve));
    stalled.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }));
    await eventuallyPasses(() => expect(frames).toContainEqual({ type: 'connection_ack' }), 5_000);
    stalled.send(JSON.stringify({ id: 'ticks', type: 'subscribe', payload: { query: WIDE_PRICES, variables: { symbols: DEMO_INSTRUMENTS.map(({ symbol }) => symbol) } } }));
    stalled.send(JSON.stringify({ id: 'events', type: 'subscribe', payload: { query: SIGNAL_EVENTS } }));
    await eventuallyPasses(() => expect(frames).toContainEqual(expect.objectContaining({ id: 'ticks', type: 'next' })), 5_000);
    expect(frames.filter((frame) => frame.type === 'error')).toEqual([]);

    const reader = createWsClient({ url: `${gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const readerTicks: string[] = [];
    reader.subscribe<{ prices: { time: string } }>(
      { query: 'subscription { prices(symbols: ["EUR_USD"]) { time } }' },
      { next: (value) => value.data !== null && value.data !== undefined && readerTicks.push(value.data.prices.time), error: () => undefined, complete: () => undefined },
    );

    const subscriptions = () => gateway.gateway.live!.hub.size.subscriptions;
    await eventuallyPasses(() => expect(subscriptions()).toBe(3), 5_000);

    // Stop reading: what the gateway writes now piles up in the kernel, then in the Outbox.
    stalled.pause();
    const startedAt = Date.now();
    let created = 0;
    let ticksBefore = 0;
    // Signal events, one every 100 ms: the first ones still fit in the kernel's buffers; once the
    // stall reaches the gateway they queue, and one past the bound closes the connection, whose
    // two subscriptions end at once.
    while (subscriptions() === 3 && Date.now() - startedAt < 20_000) {
      await gateway.graphql(CREATE, { input: { symbol: 'EUR_USD', timeframe: 'H1', direction: 'BUY', entryPrice: 1.1, stopLoss: 1.0, takeProfit: 1.2, confidence: 0.7, userId: 1 } }, TEST_ADMIN_TOKEN);
      created += 1;
      if (created === 1) ticksBefore = readerTicks.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(subscriptions()).toBe(1);
    // The reader was never held up by the stalled socket.
    expect(readerTicks.length).toBeGreaterThan(ticksBefore + 10);
    await reader.dispose();

    // Reading again: everything the kernel held arrives, then the close the gateway sent when the queue overflowed.
    stalled.resume();
    const { code, reason } = await closed;
    expect(code).toBe(4413);
    expect(reason).toMatch(/slow consumer/i);
    const events = frames.filter((frame) => frame.id === 'events' && frame.type === 'next');
    // Fewer events reached it than were created: the ones past the bound were dropped with the connection, not queued without end.
    expect(events.length).toBeLessThan(created);
  }, 60_000);
});
