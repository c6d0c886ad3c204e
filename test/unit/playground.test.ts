import Fastify, { type FastifyInstance } from 'fastify';

import { loadConfig } from '../../src/config';
import { PLAYGROUND_ASSET_PATH, PLAYGROUND_HTML_HEADERS, playgroundHtml, registerPlayground, wantsPlayground } from '../../src/http/playground';

const CHROME = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';
const FIREFOX = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const SAFARI = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('wantsPlayground', () => {
  let http: FastifyInstance;

  beforeAll(async () => {
    http = Fastify();
    http.all('/graphql', (request) => ({ playground: wantsPlayground(request) }));
    await http.ready();
  });
  afterAll(() => http.close());

  const ask = async (method: 'GET' | 'POST', accept: string | undefined) => {
    const response = await http.inject({ method, url: '/graphql', headers: accept === undefined ? {} : { accept } });
    return (response.json<{ playground: boolean }>()).playground;
  };

  it.each([
    ['Chrome', CHROME],
    ['Firefox', FIREFOX],
    ['Safari', SAFARI],
    ['a plain text/html', 'text/html'],
  ])('is true when %s navigates to the URL', async (_browser, accept) => {
    expect(await ask('GET', accept)).toBe(true);
  });

  it.each([
    ['no Accept header', undefined],
    ['application/json', 'application/json'],
    ['GraphQL over HTTP', 'application/graphql-response+json, application/json;q=0.9'],
    ['*/*', '*/*'],
    ['HTML no better than JSON', 'text/html, application/json'],
    ['HTML less wanted than anything', 'text/html;q=0.5, */*'],
    ['HTML refused', 'text/html;q=0, */*;q=0.1'],
  ])('is false for %s, which gets Apollo', async (_case, accept) => {
    expect(await ask('GET', accept)).toBe(false);
  });

  it('is false for a POST, even from a browser', async () => {
    expect(await ask('POST', CHROME)).toBe(false);
  });
});

describe('the playground assets', () => {
  let http: FastifyInstance;

  beforeAll(async () => {
    http = Fastify();
    registerPlayground(http, { path: PLAYGROUND_ASSET_PATH });
    await http.ready();
  });
  afterAll(() => http.close());

  it.each([
    ['react.js', /javascript/],
    ['react-dom.js', /javascript/],
    ['graphiql.js', /javascript/],
    ['graphql-ws.js', /javascript/],
    ['boot.js', /javascript/],
    ['graphiql.css', /css/],
  ])('serves %s from node_modules with its type and an ETag', async (file, type) => {
    const response = await http.inject({ method: 'GET', url: `/playground/${file}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(type);
    expect(response.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(response.rawPayload.length).toBeGreaterThan(100);

    const again = await http.inject({ method: 'GET', url: `/playground/${file}`, headers: { 'if-none-match': String(response.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('loads nothing from another origin: no remote import, font or image in the style sheet', async () => {
    const css = (await http.inject({ method: 'GET', url: '/playground/graphiql.css' })).body;
    expect(css).not.toMatch(/@import/);
    expect(css).not.toMatch(/url\(\s*['"]?(https?:)?\/\//);
  });

  it.each(['package.json', '..%2Fpackage.json', 'graphiql.min.js', 'index.html'])('answers 404 for anything else (%s)', async (file) => {
    expect((await http.inject({ method: 'GET', url: `/playground/${file}` })).statusCode).toBe(404);
  });
});

describe('playgroundHtml', () => {
  it('loads only the gateway-served assets, and starts GraphiQL last', () => {
    const html = playgroundHtml();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(sources).toEqual(['data:,', '/playground/graphiql.css', '/playground/react.js', '/playground/react-dom.js', '/playground/graphiql.js', '/playground/graphql-ws.js', '/playground/boot.js']);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('follows the asset path it is given', () => {
    expect(playgroundHtml('/tools/graphiql')).toContain('src="/tools/graphiql/graphiql.js"');
  });

  it('comes with a policy that allows this origin only, and varies on Accept', () => {
    expect(PLAYGROUND_HTML_HEADERS['content-security-policy']).toMatch(/default-src 'none'; script-src 'self';/);
    expect(PLAYGROUND_HTML_HEADERS['content-security-policy']).toMatch(/connect-src 'self'/);
    expect(PLAYGROUND_HTML_HEADERS.vary).toBe('Accept');
  });
});

describe('PLAYGROUND_ENABLED', () => {
  it('is on by default outside production and off in production', () => {
    expect(loadConfig({}).playground.enabled).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).playground.enabled).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).playground.enabled).toBe(false);
  });

  it('can be set either way', () => {
    expect(loadConfig({ NODE_ENV: 'production', PLAYGROUND_ENABLED: 'true' }).playground.enabled).toBe(true);
    expect(loadConfig({ PLAYGROUND_ENABLED: 'no' }).playground.enabled).toBe(false);
    expect(() => loadConfig({ PLAYGROUND_ENABLED: 'maybe' })).toThrow(/PLAYGROUND_ENABLED/);
  });
});
