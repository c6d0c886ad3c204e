// The package (a dependency of @apollo/server, pinned to the version it resolves to) ships no types.
declare module 'negotiator' {
  class Negotiator {
    constructor(request: { readonly headers: { readonly accept?: string | undefined } });
    /** The most preferred of `available` by the request's Accept (q-values, specificity, then list order); `undefined` if none is acceptable. */
    mediaType(available: readonly string[]): string | undefined;
  }
  export = Negotiator;
}
