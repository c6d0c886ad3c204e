/**
 * HTTP framework benchmark for Apollo Server 5 (Node 20, CommonJS, plain tsc).
 *
 *   npm run bench:http   (tsc, then node dist/bench/http-framework.bench.js)
 *
 * Parent process = orchestrator + autocannon load generator.
 * Each variant runs in its own forked child process (same compiled file, argv
 * `serve <variant>`), so the load generator never shares the server's event loop.
 *
 * Variants:
 *   a  fastify-integration : Fastify 5 + @as-integrations/fastify (fastifyApolloHandler + fastifyApolloDrainPlugin)
 *   b  fastify-handwritten : Fastify 5 + hand-written route calling apollo.executeHTTPGraphQLRequest
 *   c  express5-integration: Express 5 + express.json() + @as-integrations/express5 expressMiddleware
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { ApolloServer, HeaderMap, type BaseContext, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import { expressMiddleware } from '@as-integrations/express5';
import Fastify, { type FastifyInstance } from 'fastify';
import express from 'express';
import autocannon from 'autocannon';
import { median } from './bench-processes';

// ---------------------------------------------------------------------------
// Shared schema / resolvers
// ---------------------------------------------------------------------------
const typeDefs = /* GraphQL */ `
  type Query {
    signals(limit: Int!): [Signal!]!
  }
  type Signal {
    id: Int!
    symbol: String!
    price: Float!
  }
`;

const SYMBOLS = ['AAPL', 'MSFT', 'GOOG', 'AMZN', 'NVDA', 'META', 'TSLA', 'NFLX'] as const;

interface Signal {
  id: number;
  symbol: string;
  price: number;
}

function makeSignals(limit: number): Signal[] {
  return Array.from({ length: limit }, (_, i) => ({ id: i, symbol: SYMBOLS[i % SYMBOLS.length]!, price: Math.round((100 + i * 1.25) * 100) / 100 }));
}

const resolvers = {
  Query: {
    signals: (_: unknown, args: { limit: number }): Signal[] => makeSignals(args.limit),
  },
};

// ---------------------------------------------------------------------------
// Benchmark config
// ---------------------------------------------------------------------------
const VARIANTS = ['fastify-integration', 'fastify-handwritten', 'express5-integration'] as const;
type Variant = (typeof VARIANTS)[number];

const LIMIT = 50;
const REQUEST_BODY = JSON.stringify({
  query: 'query($n:Int!){signals(limit:$n){id symbol price}}',
  variables: { n: LIMIT },
});
const CONNECTIONS = 50;
const WARMUP_SECONDS = 3;
const RUN_SECONDS = 5;
const ROUNDS = 3;

interface ReadyMsg {
  type: 'ready';
  port: number;
}

// ---------------------------------------------------------------------------
// Child side: build and start one server
// ---------------------------------------------------------------------------
async function startFastifyIntegration(): Promise<{ port: number; stop: () => Promise<void> }> {
  const app = Fastify({ logger: false });
  const apollo = new ApolloServer<BaseContext>({
    typeDefs,
    resolvers,
    // We own SIGTERM handling in childMain. Leaving Apollo's default signal handler on as well
    // makes two concurrent stop() calls, and in @apollo/server 5.5.1 the second one never resolves.
    stopOnTerminationSignals: false,
    plugins: [fastifyApolloDrainPlugin(app)],
  });
  await apollo.start();
  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    handler: fastifyApolloHandler(apollo),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: portOf(app), stop: () => apollo.stop() };
}

function nodeHeadersToHeaderMap(headers: http.IncomingHttpHeaders): HeaderMap {
  const map = new HeaderMap();
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined) continue;
    map.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return map;
}

async function startFastifyHandwritten(): Promise<{ port: number; stop: () => Promise<void> }> {
  const app = Fastify({ logger: false });
  const apollo = new ApolloServer<BaseContext>({
    typeDefs,
    resolvers,
    // We own SIGTERM handling in childMain. Leaving Apollo's default signal handler on as well
    // makes two concurrent stop() calls, and in @apollo/server 5.5.1 the second one never resolves.
    stopOnTerminationSignals: false,
    plugins: [fastifyApolloDrainPlugin(app)],
  });
  await apollo.start();

  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    handler: async (request, reply) => {
      const qIdx = request.url.indexOf('?');
      const httpGraphQLRequest: HTTPGraphQLRequest = {
        method: request.method.toUpperCase(),
        headers: nodeHeadersToHeaderMap(request.headers),
        search: qIdx === -1 ? '' : request.url.slice(qIdx),
        body: request.body,
      };
      const res = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest,
        context: () => Promise.resolve({}),
      });
      for (const [k, v] of res.headers) reply.header(k, v);
      reply.code(res.status ?? 200);
      if (res.body.kind === 'complete') {
        return reply.send(res.body.string);
      }
      // 'chunked' (incremental delivery / @defer): concatenate into one payload.
      let payload = '';
      for await (const chunk of res.body.asyncIterator) payload += chunk;
      return reply.send(payload);
    },
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: portOf(app), stop: () => apollo.stop() };
}

async function startExpress5(): Promise<{ port: number; stop: () => Promise<void> }> {
  const app = express();
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<BaseContext>({
    typeDefs,
    resolvers,
    // We own SIGTERM handling in childMain. Leaving Apollo's default signal handler on as well
    // makes two concurrent stop() calls, and in @apollo/server 5.5.1 the second one never resolves.
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer })],
  });
  await apollo.start();
  app.use('/graphql', express.json(), expressMiddleware(apollo));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const addr = httpServer.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return { port: addr.port, stop: () => apollo.stop() };
}

function portOf(app: FastifyInstance): number {
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

async function childMain(variant: Variant): Promise<void> {
  const starters: Record<Variant, () => Promise<{ port: number; stop: () => Promise<void> }>> = {
    'fastify-integration': startFastifyIntegration,
    'fastify-handwritten': startFastifyHandwritten,
    'express5-integration': startExpress5,
  };
  const { port, stop } = await starters[variant]();
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(2), 5_000).unref(); // never hang the benchmark on shutdown
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('disconnect', shutdown); // parent went away
  process.send?.({ type: 'ready', port } satisfies ReadyMsg);
}

// ---------------------------------------------------------------------------
// Parent side: orchestrate, verify, load
// ---------------------------------------------------------------------------
interface Server {
  variant: Variant;
  child: ChildProcess;
  port: number;
}

function spawnServer(variant: Variant): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['serve', variant], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    const timer = setTimeout(() => reject(new Error(`${variant}: child did not become ready`)), 20_000);
    child.once('message', (m: ReadyMsg) => {
      clearTimeout(timer);
      if (m?.type === 'ready') resolve({ variant, child, port: m.port });
      else reject(new Error(`${variant}: unexpected message ${JSON.stringify(m)}`));
    });
    child.once('exit', (code) => reject(new Error(`${variant}: child exited early (${code})`)));
  });
}

async function verify(s: Server): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${s.port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: REQUEST_BODY,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${s.variant}: status ${res.status}: ${text}`);
  const json = JSON.parse(text) as { data?: { signals: Signal[] }; errors?: unknown };
  if (json.errors) throw new Error(`${s.variant}: GraphQL errors ${JSON.stringify(json.errors)}`);
  const expected = JSON.stringify({ signals: makeSignals(LIMIT) });
  const got = JSON.stringify(json.data);
  if (got !== expected) throw new Error(`${s.variant}: data mismatch\n got: ${got.slice(0, 200)}`);
  return `${res.status} ${res.headers.get('content-type')} ${text.length}B`;
}

interface RunResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function load(s: Server, seconds: number): Promise<RunResult> {
  const r = await autocannon({
    url: `http://127.0.0.1:${s.port}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: REQUEST_BODY,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

async function parentMain(): Promise<void> {
  const dep = (name: string): string => {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require(require.resolve(`${name}/package.json`, { paths: [process.cwd()] })) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  console.log(
    `node ${process.version}, ${os.cpus().length}x ${os.cpus()[0]?.model ?? '?'}; ` +
      `fastify ${dep('fastify')}, express ${dep('express')}, graphql ${dep('graphql')}, autocannon ${dep('autocannon')}`,
  );
  console.log(
    `config: ${CONNECTIONS} connections, warm-up ${WARMUP_SECONDS}s/variant, ${ROUNDS} x ${RUN_SECONDS}s runs round-robin, limit=${LIMIT}`,
  );

  const servers: Server[] = [];
  const cleanup = (): void => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGTERM');
  };
  process.on('exit', cleanup);

  try {
    for (const v of VARIANTS) servers.push(await spawnServer(v));

    for (const s of servers) console.log(`verify ${s.variant} (pid ${s.child.pid}, port ${s.port}): ${await verify(s)}`);

    for (const s of servers) {
      const w = await load(s, WARMUP_SECONDS);
      console.log(`warm-up ${s.variant}: ${w.rps.toFixed(0)} req/s (discarded)`);
    }

    const results = new Map<Variant, RunResult[]>(VARIANTS.map((v) => [v, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of servers) {
        const r = await load(s, RUN_SECONDS);
        if (r.non2xx || r.errors || r.timeouts) {
          throw new Error(`${s.variant}: non2xx=${r.non2xx} errors=${r.errors} timeouts=${r.timeouts}`);
        }
        results.get(s.variant)!.push(r);
        console.log(
          `round ${round} ${s.variant.padEnd(21)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms`,
        );
      }
    }

    const rows = VARIANTS.map((v) => {
      const rs = results.get(v)!;
      return {
        v,
        rps: median(rs.map((r) => r.rps)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
      };
    });
    const best = Math.max(...rows.map((r) => r.rps));
    console.log('');
    console.log('| variant | median req/s | p50 ms | p99 ms | ratio to best |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.v} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${(r.rps / best).toFixed(3)} |`);
    }
  } finally {
    cleanup();
    await Promise.all(
      servers.map((s) =>
        s.child.exitCode !== null
          ? Promise.resolve()
          : new Promise<void>((res) => {
              const t = setTimeout(() => s.child.kill('SIGKILL'), 8_000);
              s.child.once('exit', () => {
                clearTimeout(t);
                res();
              });
            }),
      ),
    );
  }
}

// ---------------------------------------------------------------------------
if (process.argv[2] === 'serve') {
  const v = process.argv[3] as Variant;
  if (!VARIANTS.includes(v)) throw new Error(`unknown variant ${v}`);
  childMain(v).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  parentMain().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
