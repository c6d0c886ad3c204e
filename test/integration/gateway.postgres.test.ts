import { migrations } from '../../src/db/migrations';
import { describeGatewayBehaviour } from '../helpers/gateway-behaviour';
import { createScratchSchema, postgresReachable, type ScratchSchema, TEST_POSTGRES_URL } from '../helpers/postgres';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

const reachable = postgresReachable();
if (!reachable) {
  // Visible on purpose: a skipped store is a gap in what this run proves.
  console.warn(`NOTICE: PostgreSQL at ${TEST_POSTGRES_URL} is unreachable; the PostgreSQL suite is skipped.`);
}

(reachable ? describe : describe.skip)('the gateway on PostgreSQL', () => {
  let schema: ScratchSchema;
  let gateway: TestGateway;

  beforeAll(async () => {
    schema = await createScratchSchema();
    gateway = await startTestGateway({ DATABASE_URL: schema.url });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await schema?.drop();
  });

  describeGatewayBehaviour(() => gateway);

  it('applies migrations and demo data once, even when a second gateway starts on the same store', async () => {
    const second = await startTestGateway({ DATABASE_URL: schema.url });
    try {
      const rows = await second.gateway.db.query<{ migrations: number; users: number }>(
        'test.counts',
        'select (select count(*)::int from schema_migrations) as migrations, (select count(*)::int from users) as users',
      );
      expect(rows[0]).toEqual({ migrations: migrations.length, users: 1000 });
    } finally {
      await second.close();
    }
  });
});
