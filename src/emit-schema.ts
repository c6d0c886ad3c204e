import 'reflect-metadata';

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { printGatewaySchema } from './schema';

/** `npm run schema:emit` (run from the repository root): writes the SDL that client teams generate code from. */
const SCHEMA_PATH = join(process.cwd(), 'schema', 'schema.graphql');

printGatewaySchema()
  .then((sdl) => {
    writeFileSync(SCHEMA_PATH, sdl);
    process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
  })
  .catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
