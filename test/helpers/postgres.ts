import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { Client } from 'pg';

/** The machine's PostgreSQL (trust auth); TEST_DATABASE_URL overrides it. */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether the server answers, decided synchronously (in a child process) because Jest collects
 * tests synchronously: an unreachable server must skip the suite, visibly, not fail it.
 */
export function postgresReachable(): boolean {
  const probe = `const { Client } = require('pg');
    const c = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 3000 });
    c.connect().then(() => c.end()).then(() => process.exit(0), () => process.exit(1));`;
  return spawnSync(process.execPath, ['-e', probe, TEST_POSTGRES_URL], { timeout: 10_000 }).status === 0;
}

export interface ScratchSchema {
  /** A DATABASE_URL whose connections use only this schema. */
  readonly url: string;
  drop(): Promise<void>;
}

/** A fresh schema per test file, so parallel runs (a session and its CI on one machine) never see each other's rows. */
export async function createScratchSchema(): Promise<ScratchSchema> {
  const schema = `gateway_test_${randomBytes(6).toString('hex')}`;
  await withClient((client) => client.query(`create schema ${schema}`));
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: () => withClient((client) => client.query(`drop schema ${schema} cascade`)).then(() => undefined),
  };
}

async function withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
