/** An input with every field given as explicit `null` read as left out. */
export type NullsAsAbsent<T> = { [K in keyof T]: Exclude<T[K], null> };

/**
 * GraphQL lets a client send an optional input field as `null`, and type-graphql hands it on as
 * `null` (class-validator's `@IsOptional()` lets it through too). In this API a null optional
 * field of a mutation means the same as one left out, and services speak only `undefined` for
 * "not given": a resolver passes its input through this once, so that no service has to tell
 * the two apart (a `null` email normalised, a `null` level compared, a `null` author looked up).
 * Shallow: the API's inputs are flat.
 */
export function nullsAsAbsent<T extends object>(input: T): NullsAsAbsent<T> {
  const present: Partial<Record<keyof T, unknown>> = {};
  for (const key of Object.keys(input) as (keyof T)[]) {
    if (input[key] !== null) present[key] = input[key];
  }
  return present as NullsAsAbsent<T>;
}
