import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { specifiedRules } from 'graphql';

import { loadManifests } from '../../src/graphql/persisted/manifests';
import { documentCheck } from '../../src/graphql/persisted/document-check';
import { buildTypesOnlySchema } from '../../src/schema';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

const idOf = (text: string) => createHash('sha256').update(text).digest('hex');

/** Bad persisted-document input (neighbour of security.test.ts): each gets a clear error, and nothing runs or is stored. */
describe('attacks through persisted documents', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  }, 60_000);

  afterAll(() => gw.close());

  const send = async (search: string, init: RequestInit = {}) => {
    const response = await fetch(`${gw.url}/graphql${search}`, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
    return { status: response.status, headers: response.headers, body: (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] } };
  };
  const post = (body: unknown) => send('', { method: 'POST', body: JSON.stringify(body) });
  const extension = (persistedQuery: unknown) => `?extensions=${encodeURIComponent(JSON.stringify({ persistedQuery }))}`;

  /** Asserts the refusal, and that nothing reached a data source or the response cache. */
  async function refused(attack: () => ReturnType<typeof send>, status: number, code: string, message: RegExp) {
    const calls = gw.dataSourceCalls();
    const executions = gw.gateway.responseCache!.metrics().executions;
    const answer = await attack();
    expect([answer.status, answer.body.errors?.[0]?.extensions?.code]).toEqual([status, code]);
    expect(answer.body.errors?.[0]?.message).toMatch(message);
    expect(gw.dataSourceCalls()).toBe(calls);
    expect(gw.gateway.responseCache!.metrics().executions).toBe(executions);
    return answer;
  }

  it.each([
    ['a documentId that is not hex', () => send(`?documentId=sha256:${'z'.repeat(64)}`), /documentId must be/],
    ['a documentId of the wrong length', () => post({ documentId: 'ab'.repeat(31) }), /documentId must be/],
    ['a documentId with another algorithm', () => post({ documentId: `sha1:${'a'.repeat(40)}` }), /documentId must be/],
    ['a documentId given twice', () => send(`?documentId=${'a'.repeat(64)}&documentId=${'b'.repeat(64)}`), /documentId must be a string/],
    ['a persisted query of version 2', () => send(extension({ version: 2, sha256Hash: 'a'.repeat(64) })), /version must be 1/],
    ['a persisted query hash that is not 64 hex digits', () => send(extension({ version: 1, sha256Hash: 'a'.repeat(63) })), /sha256Hash must be 64 hex digits/],
    ['a persisted query hash that is not a string', () => post({ extensions: { persistedQuery: { version: 1, sha256Hash: 42 } } }), /sha256Hash must be 64 hex digits/],
    ['a documentId and a persisted query naming different documents', () => post({ documentId: 'a'.repeat(64), extensions: { persistedQuery: { version: 1, sha256Hash: 'b'.repeat(64) } } }), /name different documents/],
  ])('refuses %s with 400 PERSISTED_QUERY_ID_INVALID', async (_name, attack, message) => {
    await refused(attack, 400, 'PERSISTED_QUERY_ID_INVALID', message);
  });

  it('refuses a query sent with an id it does not hash to, and stores nothing under that id', async () => {
    const planted = '{ user(id: 1) { id email } }';
    const claimed = idOf('{ user(id: 1) { id } }');
    await refused(() => post({ query: planted, extensions: { persistedQuery: { version: 1, sha256Hash: claimed } } }), 400, 'PERSISTED_QUERY_HASH_MISMATCH', /does not hash/);
    await refused(() => post({ query: planted, documentId: `sha256:${claimed}` }), 400, 'PERSISTED_QUERY_HASH_MISMATCH', /does not hash/);
    const later = await send(extension({ version: 1, sha256Hash: claimed }));
    expect(later.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await gw.gateway.cache.service.get(`${gw.gateway.cache.keys.persistedDocument(claimed)}`)).toBeUndefined();
  });

  it('refuses a registration that a cross-site form could send (no preflight) before registering anything', async () => {
    const text = '{ user(id: 2) { id username } }';
    const search = `?query=${encodeURIComponent(text)}${extension({ version: 1, sha256Hash: idOf(text) }).replace('?', '&')}`;
    const calls = gw.dataSourceCalls();
    const simple = await fetch(`${gw.url}/graphql${search}`);
    expect(simple.status).toBe(400);
    expect(await simple.text()).toMatch(/CSRF/);
    expect(gw.dataSourceCalls()).toBe(calls);
    expect((await send(extension({ version: 1, sha256Hash: idOf(text) }))).body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('answers an oversize GET with 414 and a hint to use POST', async () => {
    const answer = await refused(() => send(`?query=${encodeURIComponent(`{ ${'__typename '.repeat(900)}}`)}`), 414, 'URI_TOO_LONG', /longer than 8192 bytes: send this operation with POST/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses to start on manifests that give one id to two texts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
    const text = '{ me { id } }';
    const first = join(dir, 'first.json');
    const second = join(dir, 'second.json');
    writeFileSync(first, JSON.stringify({ [idOf(text)]: text }));
    writeFileSync(second, JSON.stringify({ [idOf(text)]: '{ me { id username } }' }));
    const schema = await buildTypesOnlySchema();
    expect(() => loadManifests([first, second], documentCheck(schema, specifiedRules))).toThrow(`persisted document ${idOf(text)} in ${second}: the id is not the SHA-256 of its text`);
  });
});
