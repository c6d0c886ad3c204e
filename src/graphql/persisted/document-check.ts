import { type GraphQLSchema, parse, validate, type ValidationRule } from 'graphql';

/** Why a document may not be kept as a persisted one, or `undefined` when it may. */
export type DocumentCheck = (text: string) => string | undefined;

/**
 * A document is kept (listed in a manifest, or registered by APQ) only if it parses within
 * `maxTokens` and passes `rules`: the schema's validation and the gateway's query limits.
 */
export function documentCheck(schema: GraphQLSchema, rules: readonly ValidationRule[], maxTokens?: number): DocumentCheck {
  return (text) => {
    let errors: readonly Error[];
    try {
      errors = validate(schema, parse(text, maxTokens === undefined ? { noLocation: true } : { noLocation: true, maxTokens }), rules);
    } catch (error) {
      return `it does not parse: ${error instanceof Error ? error.message : String(error)}`;
    }
    return errors.length === 0 ? undefined : `it does not validate against the schema: ${errors.map((error) => error.message).join('; ')}`;
  };
}
