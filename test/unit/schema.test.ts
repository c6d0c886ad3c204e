import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { printGatewaySchema } from '../../src/schema';

describe('the committed schema', () => {
  it('matches the code-first schema (run `npm run schema:emit` after changing types)', async () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8');
    expect(await printGatewaySchema()).toBe(committed);
  });
});
