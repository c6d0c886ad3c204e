import { PgliteDriver } from '../../src/db/pglite-driver';
import { eventually } from '../helpers/eventually';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

const MIB = 1024 ** 2;
/** PGlite's WebAssembly memory is never smaller: its module declares 2,048 pages of 64 KiB. */
const LINEAR_MEMORY_MIN_BYTES = 128 * MIB;
const NEAR_MAX_BYTES = 64 * 1024;

const board = (limit: number) => `{ signals(symbol: "EUR_USD", limit: ${limit}) { id symbol direction entryPrice user { id username displayName } } }`;

function memoryParts(metrics: string): Record<string, number> {
  return Object.fromEntries([...metrics.matchAll(/^gateway_memory_bytes\{part="([a-z_]+)"\} (\d+)$/gm)].map((match) => [match[1]!, Number(match[2])]));
}

describe('what holds the memory of a gateway, in /metrics', () => {
  let gw: TestGateway;
  const scrape = async () => memoryParts(await (await fetch(`${gw.url}/metrics`)).text());

  beforeAll(async () => {
    gw = await startTestGateway({ RESPONSE_CACHE_NEAR_MAX_BYTES: String(NEAR_MAX_BYTES) });
  }, 60_000);

  afterAll(() => gw.close());

  it('reports the embedded database, the near tier and the data fallback tier', async () => {
    const parts = await scrape();
    expect(Object.keys(parts).sort()).toEqual(['data_fallback_tier', 'embedded_database', 'near_tier']);
    expect(parts.embedded_database).toBeGreaterThanOrEqual(LINEAR_MEMORY_MIN_BYTES);
    expect(parts.embedded_database).toBe(gw.gateway.db.memoryBytes());
    // Redis serves: the fallback tier holds nothing.
    expect(parts.data_fallback_tier).toBe(0);
  });

  it('when responses past RESPONSE_CACHE_NEAR_MAX_BYTES are cached, the near tier keeps within it', async () => {
    for (let limit = 1; limit <= 40; limit += 1) expect((await gw.graphql(board(limit))).errors).toBeUndefined();
    const { near_tier: nearTier } = await scrape();
    expect(nearTier).toBeGreaterThan(NEAR_MAX_BYTES / 2);
    expect(nearTier).toBeLessThanOrEqual(NEAR_MAX_BYTES);
    expect(gw.gateway.responseCache?.metrics().near_entries).toBeLessThan(40);
  });
});

describe('the embedded database in memory', () => {
  let driver: PgliteDriver | undefined;

  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });

  it('leaves no throwaway PostgreSQL behind once created, and counts its files', async () => {
    const before = process.memoryUsage().external;
    driver = await PgliteDriver.start();
    const held = driver.memoryBytes();
    // The files of a fresh database (three databases, the log, PostgreSQL's own) besides the WebAssembly memory.
    expect(held).toBeGreaterThan(LINEAR_MEMORY_MIN_BYTES + 20 * MIB);
    // initdb's instance (its own WebAssembly memory and files, about 400 MiB of external memory) is freed.
    expect(process.memoryUsage().external - before).toBeLessThan(held + 32 * MIB);
  }, 60_000);

  it('keeps its write-ahead log bounded: PGlite has no checkpointer, so the driver checkpoints past 8 MiB', async () => {
    driver = await PgliteDriver.start({ walCheckIntervalMs: 100 });
    const walBytes = async () => (await driver!.query<{ bytes: number }>('select coalesce(sum(size), 0)::float8 as bytes from pg_ls_waldir()', []))[0]!.bytes;
    await driver.exec('create table filler (id serial primary key, text text not null)');
    for (let batch = 0; batch < 8; batch += 1) await driver.query("insert into filler (text) select repeat(md5(g::text), 4) from generate_series(1, 10000) g", []);
    await eventually(async () => (await walBytes()) <= 9 * MIB, 20_000, 'the write-ahead log back under 9 MiB');
  }, 60_000);
});
