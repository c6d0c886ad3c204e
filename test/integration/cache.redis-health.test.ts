import { eventually } from '../helpers/eventually';
import { RedisServer } from '../helpers/redis-server';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

/** Long on purpose: the status must not wait for a command (or the PING itself) to time out. */
const REDIS_TIMEOUT_SECONDS = 10;
const CHECK_INTERVAL_MS = 200;
/** RedisHealth's default stall threshold for this interval (one interval, at least 500 ms). */
const STALLED_PING_MS = 500;

interface CacheHealth {
  readonly status: string;
  readonly connection_healthy: boolean;
}

describe('GET /cache/health while Redis is frozen', () => {
  let server: RedisServer;
  let gw: TestGateway;

  beforeAll(async () => {
    server = await RedisServer.start();
    gw = await startTestGateway({ REDIS_URL: server.url, REDIS_TIMEOUT: String(REDIS_TIMEOUT_SECONDS), REDIS_HEALTH_CHECK_INTERVAL_MS: String(CHECK_INTERVAL_MS) });
  }, 60_000);

  afterAll(async () => {
    server?.thaw();
    await gw?.close();
    await server?.stop();
  });

  const health = async () => (await (await fetch(`${gw.url}/cache/health`)).json()) as CacheHealth;

  it('stays healthy while Redis answers its PINGs', async () => {
    for (let sample = 0; sample < 20; sample += 1) {
      expect(await health()).toMatchObject({ status: 'healthy', connection_healthy: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it('turns degraded as soon as a health PING has gone unanswered too long, well before any timeout, and healthy again after', async () => {
    server.freeze();
    const degradedAfterMs = await eventually(async () => (await health()).status === 'degraded', REDIS_TIMEOUT_SECONDS * 1000, 'degraded');
    // One interval until the next PING, the stall threshold, and room for a loaded machine.
    expect(degradedAfterMs).toBeLessThan(CHECK_INTERVAL_MS + STALLED_PING_MS + 1_500);
    server.thaw();
    await eventually(async () => (await health()).status === 'healthy', 5_000, 'healthy after the thaw');
  }, 30_000);
});
