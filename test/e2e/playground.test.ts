import type { Page, WebSocket } from 'playwright-core';

import { type OfflineBrowser, openOfflineBrowser, screenshotPath } from '../helpers/chromium';
import { eventually } from '../helpers/eventually';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';

/**
 * The playground as a developer meets it: Debian's Chromium opens GET /graphql, a query is typed
 * into GraphiQL's editor and run, and the answer is read off the page. Every request the page
 * makes to anything but this machine is refused and recorded, so the test also proves that the
 * playground needs no internet access (no CDN script, style sheet or font).
 */

/** Where the subscription case leaves its screenshot. */
const SUBSCRIPTION_SCREENSHOT = screenshotPath('playground-subscription.png');

const STEP_TIMEOUT_MS = 15_000;

const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const RESPONSE = '.graphiql-response .CodeMirror';
const VISIBLE_TOOL_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
const DOC_EXPLORER = 'section.graphiql-doc-explorer';
/** CodeMirror 5's list of completions, which GraphiQL fills from the introspected schema. */
const HINTS = 'ul.CodeMirror-hints li.CodeMirror-hint';

/** The text of a CodeMirror 5 editor on the page (GraphiQL's editors), whole even when only part is rendered. */
function editorText(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (element) => (element as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
}

async function replaceEditorText(page: Page, selector: string, text: string): Promise<void> {
  await page.click(selector);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // Typed key by key, as a person would (GraphiQL closes brackets and quotes as they are typed).
  await page.keyboard.type(text);
  expect(await editorText(page, selector)).toBe(text);
}

/** Runs the query in the editor with the toolbar's button and waits for an answer that mentions `expected`. */
async function runAndRead(page: Page, expected: string): Promise<unknown> {
  await page.click('button.graphiql-execute-button');
  // A function, not a string: the page's Content-Security-Policy may forbid eval. It runs in the
  // page, and this project compiles without the DOM library, hence `globalThis`.
  await page.waitForFunction(
    ({ selector, text }) => {
      const page = globalThis as unknown as { document: { querySelector(selector: string): { CodeMirror?: { getValue(): string } } | null } };
      return page.document.querySelector(selector)?.CodeMirror?.getValue().includes(text) === true;
    },
    { selector: RESPONSE, text: expected },
    { timeout: STEP_TIMEOUT_MS },
  );
  return JSON.parse(await editorText(page, RESPONSE)) as unknown;
}

/** The result pane's JSON, or undefined while it holds none (empty, or being replaced). */
async function responseJson(page: Page): Promise<unknown> {
  try {
    return JSON.parse(await editorText(page, RESPONSE)) as unknown;
  } catch {
    return undefined;
  }
}

/** The payloads of the graphql-ws messages the page sent on a socket, by message type. */
function sentMessages(frames: readonly string[], type: string): unknown[] {
  return frames.map((frame) => JSON.parse(frame) as { type: string; payload?: unknown }).filter((message) => message.type === type).map((message) => message.payload);
}

describe('the GraphQL playground in a browser, offline', () => {
  let gateway: TestGateway;
  let browser: OfflineBrowser;
  let page: Page;
  const consoleErrors: string[] = [];
  /** The answers to GraphiQL's introspection query (sent as operation IntrospectionQuery on load). */
  const introspections: { status: number; body: string }[] = [];
  /** Subscriptions the page POSTed instead of sending them over its socket. */
  const postedSubscriptions: string[] = [];
  /** The page's WebSockets, with the text frames it sent on each (recorded from the socket's creation on). */
  const sockets: { socket: WebSocket; sent: string[] }[] = [];

  beforeAll(async () => {
    // Ten ticks a second per instrument, so that a subscription shows several within a second.
    gateway = await startTestGateway({ MARKET_SIM_TICKS_PER_SECOND: '10' });
    browser = await openOfflineBrowser('playground', { stepTimeoutMs: STEP_TIMEOUT_MS });
    page = browser.page;
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('response', async (response) => {
      if (response.request().method() !== 'POST' || response.request().postData()?.includes('IntrospectionQuery') !== true) return;
      introspections.push({ status: response.status(), body: await response.text() });
    });
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.postData()?.includes('"query":"subscription') === true) postedSubscriptions.push(request.postData() ?? '');
    });
    page.on('websocket', (socket) => {
      const sent: string[] = [];
      sockets.push({ socket, sent });
      socket.on('framesent', ({ payload }) => sent.push(typeof payload === 'string' ? payload : payload.toString('utf8')));
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  }, 30_000);

  it('opens GraphiQL at GET /graphql with every asset served by the gateway', async () => {
    const assets: string[] = [];
    page.on('request', (request) => assets.push(request.url()));
    const response = await page.goto(`${gateway.url}/graphql`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    await page.waitForSelector(QUERY_EDITOR);
    expect(await page.title()).toMatch(/playground/i);
    expect(assets.filter((url) => new URL(url).pathname.startsWith('/playground/')).length).toBeGreaterThanOrEqual(4);
  }, 60_000);

  it('introspects the schema on load, with no error in the result pane or the console', async () => {
    // GraphiQL's standard introspection query (10 levels deep) is not held to the depth limit of data queries.
    await eventually(() => introspections.length > 0, STEP_TIMEOUT_MS, 'an answer to GraphiQL\'s introspection query');
    const [introspection] = introspections;
    expect(introspection?.status).toBe(200);
    const answer = JSON.parse(introspection!.body) as { data?: { __schema?: { queryType?: { name?: string } } }; errors?: unknown };
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.__schema?.queryType?.name).toBe('Query');
    // Where GraphiQL shows a failed introspection; empty until a query runs.
    expect(await editorText(page, RESPONSE)).not.toMatch(/errors|too deep|introspection/i);
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it("lists Query's fields in the documentation explorer", async () => {
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const explorer = page.locator(DOC_EXPLORER);
    await explorer.locator('a.graphiql-doc-explorer-type-name', { hasText: /^Query$/ }).click();
    await explorer.locator('a.graphiql-doc-explorer-field-name', { hasText: /^signalsConnection$/ }).waitFor();
    const fields = await explorer.locator('a.graphiql-doc-explorer-field-name').allTextContents();
    // GraphiQL lists deprecated fields (Query.signals) apart, behind a toggle.
    expect(fields).toEqual(expect.arrayContaining(['signalsConnection', 'user', 'latestSignals', 'candles']));
    await page.getByRole('button', { name: 'Hide Documentation Explorer' }).click();
    await page.locator(DOC_EXPLORER).waitFor({ state: 'detached' });
  }, 60_000);

  it('offers completions from the schema while a query is typed', async () => {
    await page.click(QUERY_EDITOR);
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    // GraphiQL closes the brace: the editor holds `{ sig}` with the cursor after `sig`.
    await page.keyboard.type('{ sig');
    await page.keyboard.press('Control+Space');
    await page.locator(HINTS).first().waitFor();
    const hints = await page.locator(HINTS).allTextContents();
    expect(hints).toEqual(expect.arrayContaining(['signalsConnection', 'signal', 'signalStatistics']));
    // Neither another field nor a deprecated one (Query.signals) is offered.
    expect(hints).not.toContain('users');
    expect(hints).not.toContain('signals');
    // Choosing the completion writes it into the query.
    await page.locator(HINTS, { hasText: /^signalsConnection$/ }).click();
    expect(await editorText(page, QUERY_EDITOR)).toMatch(/^\{ signalsConnection/);
  }, 60_000);

  it('runs a query typed into the editor and shows its result', async () => {
    await replaceEditorText(page, QUERY_EDITOR, '{ user(id: 1) { username displayName } }');
    expect(await runAndRead(page, 'username')).toEqual({ data: { user: { username: 'alice', displayName: expect.any(String) } } });
  }, 60_000);

  it('sends the headers typed in the Headers pane: the admin token, for cacheMetrics', async () => {
    await page.getByRole('button', { name: 'Headers' }).click();
    const headers = `{"Authorization":"Bearer ${TEST_ADMIN_TOKEN}"}`;
    await replaceEditorText(page, VISIBLE_TOOL_EDITOR, headers);
    await replaceEditorText(page, QUERY_EDITOR, '{ cacheMetrics { hitRate totalOperations } }');

    const sent = page.waitForRequest((request) => request.method() === 'POST' && request.postData()?.includes('cacheMetrics') === true);
    const result = (await runAndRead(page, 'totalOperations')) as { data: { cacheMetrics: { hitRate: number; totalOperations: number } } };
    expect((await sent).headers().authorization).toBe(`Bearer ${TEST_ADMIN_TOKEN}`);
    expect(result.data.cacheMetrics).toEqual({ hitRate: expect.any(Number), totalOperations: expect.any(Number) });
    expect(result.data.cacheMetrics.totalOperations).toBeGreaterThan(0);
  }, 60_000);

  it("runs a subscription typed into the editor over a WebSocket to this host, as the Headers pane's token, and shows its ticks arriving", async () => {
    // The Headers pane still holds the admin token of the case before.
    await replaceEditorText(page, QUERY_EDITOR, 'subscription { prices(symbols: ["EUR_USD"]) { symbol bid time } }');
    await page.click('button.graphiql-execute-button');

    // Each tick replaces the result pane: read it until three different ticks have been shown.
    const times = new Set<string>();
    let shown: unknown;
    await eventually(
      async () => {
        shown = await responseJson(page);
        const tick = (shown as { data?: { prices?: { symbol: string; bid: number; time: string } } } | undefined)?.data?.prices;
        if (tick !== undefined) {
          expect(tick).toEqual({ symbol: 'EUR_USD', bid: expect.any(Number), time: expect.any(String) });
          times.add(tick.time);
        }
        return times.size >= 3;
      },
      STEP_TIMEOUT_MS,
      'three ticks with different times in the result pane',
    ).catch((error: Error) => {
      throw new Error(`${error.message}; ${times.size} seen, the pane shows ${JSON.stringify(shown)}`);
    });
    // The query's start in view (typing scrolled the editor to its end), then the picture.
    await page.click(QUERY_EDITOR);
    await page.keyboard.press('Control+Home');
    await page.screenshot({ path: SUBSCRIPTION_SCREENSHOT });

    const live = sockets.filter(({ socket }) => !socket.isClosed());
    expect(live).toHaveLength(1);
    const [{ socket, sent }] = live as [(typeof live)[number]];
    expect(socket.url()).toBe(`${gateway.url.replace(/^http:/, 'ws:')}/graphql`);
    // The socket's credential is the Headers pane's Authorization header.
    expect(sentMessages(sent, 'connection_init')).toEqual([{ authorization: `Bearer ${TEST_ADMIN_TOKEN}` }]);
    expect(sentMessages(sent, 'subscribe')).toEqual([expect.objectContaining({ query: expect.stringContaining('prices(symbols: ["EUR_USD"])') })]);

    // The toolbar's button now stops the subscription, and the idle socket closes.
    const closed = socket.waitForEvent('close', { timeout: STEP_TIMEOUT_MS });
    await page.getByRole('button', { name: /^Stop query/ }).click();
    await closed;
    expect(sentMessages(sent, 'complete')).toHaveLength(1);
  }, 60_000);

  it('shows a refused token and an invalid subscription as errors at once, and subscribes anonymously when the Headers pane names none', async () => {
    await page.getByRole('button', { name: 'Headers' }).click();
    await replaceEditorText(page, VISIBLE_TOOL_EDITOR, '{"Authorization":"Bearer not-a-session"}');
    // Refused at connection_init (4403) and not retried: the error is in the result pane within the step's time.
    expect(await runAndRead(page, '4403')).toEqual({ errors: [{ message: expect.stringMatching(/^Socket closed with event 4403 /) }] });
    expect(sentMessages(sockets.at(-1)!.sent, 'connection_init')).toEqual([{ authorization: 'Bearer not-a-session' }]);

    await replaceEditorText(page, VISIBLE_TOOL_EDITOR, '');
    await replaceEditorText(page, QUERY_EDITOR, 'subscription { prices(symbols: ["EURUSD"]) { symbol bid time } }');
    const invalid = (await runAndRead(page, 'BAD_USER_INPUT')) as { errors: { extensions?: { code?: string } }[] };
    expect(invalid.errors.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    const socketsBefore = sockets.length;

    await replaceEditorText(page, QUERY_EDITOR, 'subscription { prices(symbols: ["EUR_USD"]) { symbol bid time } }');
    expect(await runAndRead(page, '"time"')).toEqual({ data: { prices: { symbol: 'EUR_USD', bid: expect.any(Number), time: expect.any(String) } } });
    expect(sockets).toHaveLength(socketsBefore + 1);
    const { socket, sent } = sockets.at(-1)!;
    // connection_init without a payload: an anonymous viewer.
    expect(sentMessages(sent, 'connection_init')).toEqual([undefined]);
    const closed = socket.waitForEvent('close', { timeout: STEP_TIMEOUT_MS });
    await page.getByRole('button', { name: /^Stop query/ }).click();
    await closed;
  }, 60_000);

  it('opens a shared link with its query and variables in the editors', async () => {
    const query = 'query Candles($count: Int!) { candles(symbol: "EUR_USD", timeframe: H1, count: $count) { close } }';
    const linked = await browser.context.newPage();
    try {
      await linked.goto(`${gateway.url}/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent('{"count":2}')}`);
      await linked.waitForSelector(QUERY_EDITOR);
      expect(await editorText(linked, QUERY_EDITOR)).toBe(query);
      const result = (await runAndRead(linked, 'close')) as { data: { candles: { close: number }[] } };
      expect(result.data.candles).toHaveLength(2);
    } finally {
      await linked.close();
    }
  }, 60_000);

  it('attempted no request off this machine, POSTed no subscription, and raised no script or console error', () => {
    expect(browser.outside).toEqual([]);
    expect(postedSubscriptions).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});

describe('GET /graphql without the playground', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ PLAYGROUND_ENABLED: 'false' });
  }, 60_000);

  afterAll(() => gateway?.close(), 30_000);

  it('answers browsers as Apollo does and serves no playground asset when PLAYGROUND_ENABLED=false', async () => {
    const page = await fetch(`${gateway.url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    await page.arrayBuffer();
    expect(page.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
    expect((await fetch(`${gateway.url}/playground/graphiql.js`)).status).toBe(404);
  }, 30_000);
});
