import { validate, type ValidationError } from 'class-validator';

import { badInput } from '../errors';

/**
 * type-graphql's validation hook. It runs before the resolver, so an invalid argument executes
 * nothing. The message lists every broken rule, spelled for the client (`limit must be between 1 and 200`).
 */
export async function validateArgs(value: unknown): Promise<void> {
  if (value === null || typeof value !== 'object') return;
  const values = Array.isArray(value) ? value : [value];
  const problems: { field: string; messages: string[] }[] = [];
  for (const item of values) {
    if (item === null || typeof item !== 'object') continue;
    const errors = await validate(item as object, { forbidUnknownValues: false, validationError: { target: false, value: false } });
    problems.push(...flatten(errors, ''));
  }
  if (problems.length > 0) {
    throw badInput(`Invalid argument: ${problems.flatMap((p) => p.messages).join('; ')}`, { validationErrors: problems });
  }
}

function flatten(errors: readonly ValidationError[], parent: string): { field: string; messages: string[] }[] {
  return errors.flatMap((error) => {
    const field = parent === '' ? error.property : `${parent}.${error.property}`;
    const own = error.constraints === undefined ? [] : [{ field, messages: Object.values(error.constraints).map((m) => m.replace(error.property, field)) }];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
