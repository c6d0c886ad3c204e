import { existsSync } from 'node:fs';

import type { Page } from 'playwright-core';

import { loadConfig } from '../../src/config';
import type { OpsStats } from '../../src/operator/ops-stats';
import { type OfflineBrowser, openOfflineBrowser, screenshotPath } from '../helpers/chromium';
import { eventually } from '../helpers/eventually';
import { ALICE, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';

/**
 * The operator console as an operator meets it: Debian's Chromium opens GET /ops, signs in with
 * the admin token, watches the charts fill while traffic flows, and uses the buttons. Requests to
 * anything but this machine are refused and recorded, as in the playground's test: the console
 * needs no internet access. The test leaves a screenshot at SCREENSHOT (git-ignored dist/).
 */

const STEP_TIMEOUT_MS = 15_000;
const SCREENSHOT = screenshotPath('ops-console.png');
/** The console polls this often here (2 s by default), so that charts fill within a second or two. */
const POLL_MS = 250;

/** Points drawn by a chart's series (the console marks each path with them). */
async function pointsOf(page: Page, chart: string, series: string): Promise<number> {
  return Number(await page.getAttribute(`#${chart} path[data-series="${series}"]`, 'data-points'));
}

describe('the operator console in a browser, offline', () => {
  let gateway: TestGateway;
  let browser: OfflineBrowser;
  let page: Page;
  const consoleErrors: string[] = [];

  /** POSTs a GraphQL query; resolves to the x-cache header of the answer. */
  const query = async (text: string): Promise<string | null> => {
    const response = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: text }) });
    await response.arrayBuffer();
    return response.headers.get('x-cache');
  };
  const stats = async (): Promise<OpsStats> => (await (await fetch(`${gateway.url}/ops/stats`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as OpsStats;

  beforeAll(async () => {
    gateway = await startTestGateway();
    browser = await openOfflineBrowser('ops-console', { stepTimeoutMs: STEP_TIMEOUT_MS, viewport: { width: 1280, height: 1000 } });
    page = browser.page;
    page.on('console', (message) => {
      // The browser reports every refused fetch (401 with a wrong token) as a console error of its own.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) consoleErrors.push(message.text());
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  }, 30_000);

  it('refuses its data without the admin token, and to a user\'s session', async () => {
    expect((await fetch(`${gateway.url}/ops/stats`)).status).toBe(401);
    expect((await fetch(`${gateway.url}/ops/stats`, { headers: { authorization: 'Bearer not-a-token-of-this-gateway' } })).status).toBe(401);
    const asAlice = await fetch(`${gateway.url}/ops/stats`, { headers: { authorization: `Bearer ${ALICE}` } });
    expect(asAlice.status).toBe(403);
    expect(await asAlice.json()).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });
    const asAdmin = await fetch(`${gateway.url}/ops/stats`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.headers.get('cache-control')).toBe('no-store');
    expect(await asAdmin.json()).toMatchObject({
      cache: { hits: expect.any(Number), misses: expect.any(Number), tiers: { redis: expect.any(Object), memory: expect.any(Object) } },
      http: { route: '/graphql', buckets: expect.any(Array) },
      market: { breaker: { state: 'closed' } },
      warming: { strategies: expect.any(Array) },
      monitor: { hit_rate: 'ok', error_rate: 'ok', thresholds: { min_hit_rate: 90, max_error_rate: 1 } },
    });
  });

  it('serves a page that asks for the token, with every asset from the gateway under a strict policy', async () => {
    const response = await page.goto(`${gateway.url}/ops?poll_ms=${POLL_MS}`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);
    expect(await page.title()).toMatch(/operator console/i);
    await page.locator('#signin').waitFor();
    expect(await page.locator('#console').isHidden()).toBe(true);
  });

  it('with a wrong token, says the gateway refused it and shows no figures', async () => {
    await page.fill('#token', 'not-the-admin-token-0123456789');
    await page.click('#signin button[type=submit]');
    await page.locator('#signin-message', { hasText: /refused this token \(401/ }).waitFor();
    expect(await page.locator('#console').isHidden()).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(0);
  });

  it('with the admin token, charts hit rate, latency and cache outcomes as traffic flows', async () => {
    await page.fill('#token', TEST_ADMIN_TOKEN);
    await page.click('#signin button[type=submit]');
    await page.locator('#connection', { hasText: 'live' }).waitFor();
    // Traffic while the console polls: misses first, then near hits of the same queries.
    const traffic = (async () => {
      for (let round = 0; round < 12; round += 1) {
        await Promise.all([1, 2, 3].map((id) => query(`{ user(id: ${id}) { username signals(limit: 2) { id } } }`)));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await eventually(async () => (await pointsOf(page, 'chart-outcomes', 'near hit')) >= 3, STEP_TIMEOUT_MS, 'near hits charted');
    await traffic;
    await eventually(async () => (await pointsOf(page, 'chart-latency', 'p99')) >= 2, STEP_TIMEOUT_MS, 'p99 charted');
    expect(await pointsOf(page, 'chart-hit-rate', 'responses')).toBeGreaterThanOrEqual(2);
    expect(await pointsOf(page, 'chart-hit-rate', 'data cache')).toBeGreaterThanOrEqual(1);
    expect(await pointsOf(page, 'chart-tiers', 'redis')).toBeGreaterThanOrEqual(2);
    expect(await pointsOf(page, 'chart-breaker', 'state')).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#tier-status').textContent()).toMatch(/serving/);
    expect(await page.locator('#breaker-state').textContent()).toMatch(/^closed/);
    expect(await page.locator('#now-latency').textContent()).toMatch(/ms \/ .* ms/);
  }, 60_000);

  it('evicts what the invalidation button names: the next query for it is executed again', async () => {
    const userQuery = '{ user(id: 1) { username displayName } }';
    await query(userQuery);
    expect(await query(userQuery)).toBe('HIT');
    const missesBefore = (await stats()).response_cache?.misses ?? 0;

    await page.selectOption('#scope', 'user');
    await page.fill('#scope-value', '1');
    const sent = page.waitForRequest((request) => request.url().endsWith('/cache/invalidate'));
    await page.click('#invalidate');
    const request = await sent;
    expect(request.headers().authorization).toBe(`Bearer ${TEST_ADMIN_TOKEN}`);
    expect(request.postDataJSON()).toEqual({ scope: 'user', id: 1 });
    const result = await page.locator('#action-result', { hasText: /entries removed/ }).textContent();
    expect(Number(/: (\d+) entries removed/.exec(result ?? '')?.[1])).toBeGreaterThan(0);

    expect(await query(userQuery)).toBe('MISS');
    expect((await stats()).response_cache?.misses).toBe(missesBefore + 1);
  }, 30_000);

  it('runs the warming strategies chosen through the admin API, and the table shows the run', async () => {
    for (const strategy of ['user_data', 'signals_data', 'statistics']) await page.uncheck(`input[name=strategy][value=${strategy}]`);
    const sent = page.waitForRequest((request) => request.url().endsWith('/cache/warming/trigger'));
    await page.click('#warm');
    expect((await sent).postDataJSON()).toEqual({ strategies: ['market_data'] });
    await page.locator('#action-result', { hasText: /Warming completed in \d+ ms: market_data ok/ }).waitFor();
    const runsOf = (strategy: string) => page.locator(`#warming-table tr[data-strategy=${strategy}] td`).nth(5).textContent();
    await eventually(async () => (await runsOf('market_data')) === '1', STEP_TIMEOUT_MS, 'market_data run shown');
    expect(await runsOf('user_data')).toBe('0');
    await eventually(async () => (await pointsOf(page, 'chart-warming', 'runs')) >= 3, STEP_TIMEOUT_MS, 'warming charted');

    // Playwright creates dist/ if it is missing.
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);

    // The API reads an empty list as every strategy: with none ticked, the console asks for nothing.
    let triggers = 0;
    const countTriggers = (request: { url(): string }) => {
      if (request.url().endsWith('/cache/warming/trigger')) triggers += 1;
    };
    page.on('request', countTriggers);
    await page.uncheck('input[name=strategy][value=market_data]');
    await page.click('#warm');
    await page.locator('#action-result', { hasText: 'Tick at least one strategy to warm.' }).waitFor();
    page.off('request', countTriggers);
    expect(triggers).toBe(0);
  }, 30_000);

  it('forgets the token on sign out', async () => {
    await page.click('#signout');
    await page.locator('#signin').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(0);
  });

  it('attempted no request off this machine and raised no script or console error', () => {
    expect(browser.outside).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});

describe('the operator console, disabled', () => {
  it('is off in production unless OPS_CONSOLE_ENABLED says otherwise', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).opsConsole.enabled).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', OPS_CONSOLE_ENABLED: 'true' }).opsConsole.enabled).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development' }).opsConsole.enabled).toBe(true);
  });

  it('answers 404 for the page, its assets and its data', async () => {
    const gateway = await startTestGateway({ OPS_CONSOLE_ENABLED: 'false' });
    try {
      for (const path of ['/ops', '/ops/console.js', '/ops/stats']) {
        const response = await fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
        expect({ path, status: response.status }).toEqual({ path, status: 404 });
      }
    } finally {
      await gateway.close();
    }
  }, 60_000);
});
