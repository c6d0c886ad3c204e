import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describeGatewayBehaviour } from '../helpers/gateway-behaviour';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';

describe('the gateway on its embedded defaults (PGlite, simulated market feed)', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    // The default itself (created and seeded in memory), not the copy of a seeded one that other suites start from.
    gateway = await startTestGateway({ PGLITE_DATA_DIR: 'memory://' });
  }, 60_000);

  afterAll(() => gateway.close());

  describeGatewayBehaviour(() => gateway);
});

describe("the README's examples", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway();
  }, 60_000);

  afterAll(() => gateway.close());

  /** Every `curl` in the README, as a newcomer would paste it, against a running gateway. */
  const examples = () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    return [...readme.matchAll(/curl -s (?:-X POST )?localhost:4000(\/[^\s]*)((?:\\\n|[^\n])*)/g)].map((match) => {
      const command = match[2]!.replace(/\\\n/g, ' ');
      const headers = Object.fromEntries(
        [...command.matchAll(/-H ['"]([^:'"]+):\s*([^'"]+)['"]/g)].map((h) => [h[1]!.toLowerCase(), h[2]!.replace('$ADMIN_API_TOKEN', TEST_ADMIN_TOKEN)]),
      );
      const body = /-d '([^']*)'/.exec(command)?.[1];
      return { path: match[1]!, headers, body };
    });
  };

  it('finds the examples', () => {
    expect(examples().filter((e) => e.path === '/graphql').length).toBeGreaterThanOrEqual(4);
  });

  it('answers every one of them without an error', async () => {
    for (const example of examples()) {
      const response = await fetch(`${gateway.url}${example.path}`, {
        method: example.body === undefined ? 'GET' : 'POST',
        headers: example.headers,
        ...(example.body === undefined ? {} : { body: example.body }),
      });
      const text = await response.text();
      expect({ path: example.path, status: response.status }).toEqual({ path: example.path, status: 200 });
      if (example.path === '/graphql') expect((JSON.parse(text) as { errors?: unknown }).errors).toBeUndefined();
    }
  });
});
