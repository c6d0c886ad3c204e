import { validate, type ValidationError } from 'class-validator';

import { badInput } from '../errors';

interface Problem {
  field: string;
  messages: string[];
}

/**
 * C0 and C1 control characters (Unicode category Cc: U+0000–U+001F, U+007F–U+009F). No text
 * argument of the API is multi-line, so tabs and line breaks are refused with the rest; NUL in
 * particular PostgreSQL refuses itself, which must reach the client as BAD_USER_INPUT, not a 500.
 */
const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * type-graphql's validation hook. It runs before the resolver, so an invalid argument executes
 * nothing. The message lists every broken rule, spelled for the client (`limit must be between 1 and 200`).
 *
 * Two rules hold for every argument, decorated or not, so that a new field cannot forget them:
 * numbers are finite (a Float literal such as 1e400 parses to Infinity, which graphql-js lets
 * through, and which no Float output can represent afterwards), and text holds no control character.
 */
export async function validateArgs(value: unknown): Promise<void> {
  // One report per field and rule, however many items of a list break it.
  const problems: Problem[] = [...new Map([...everyValue(value, '')].map((p) => [`${p.field}\n${p.messages[0]}`, p])).values()];
  if (value !== null && typeof value === 'object') {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null || typeof item !== 'object') continue;
      const errors = await validate(item as object, { forbidUnknownValues: false, validationError: { target: false, value: false } });
      problems.push(...flatten(errors, ''));
    }
  }
  if (problems.length > 0) {
    throw badInput(`Invalid argument: ${problems.flatMap((p) => p.messages).join('; ')}`, { validationErrors: problems });
  }
}

function flatten(errors: readonly ValidationError[], parent: string): Problem[] {
  return errors.flatMap((error) => {
    const field = parent === '' ? error.property : `${parent}.${error.property}`;
    const own = error.constraints === undefined ? [] : [{ field, messages: Object.values(error.constraints).map((m) => m.replace(error.property, field)) }];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** The rules for every number and string in an argument, nested inputs and lists included. */
function* everyValue(value: unknown, field: string): Generator<Problem> {
  const name = field === '' ? 'argument' : field;
  if (typeof value === 'number' && !Number.isFinite(value)) {
    yield { field: name, messages: [`${name} must be a finite number`] };
  } else if (typeof value === 'string' && CONTROL_CHARACTER.test(value)) {
    yield { field: name, messages: [`${name} must not contain control characters`] };
  } else if (Array.isArray(value)) {
    // A list reports under its own name, as class-validator's `each` rules do.
    for (const item of value) yield* everyValue(item, field);
  } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) yield* everyValue(item, field === '' ? key : `${field}.${key}`);
  }
}
