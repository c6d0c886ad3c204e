import type { CacheKeys } from './cache-keys';
import type { CacheService, TtlTiers } from './cache.service';

/**
 * Method decorators in the spirit of the seed's `@cache_user_data(ttl=1800)`. There is no global
 * cache: a decorated method reads the cache and the keys from its own instance, which received
 * them through its constructor.
 */
export interface CachingHost {
  readonly cache: CacheService;
  readonly cacheKeys: CacheKeys;
}

type AsyncMethod = (...args: never[]) => Promise<unknown>;
type KeyOf = (keys: CacheKeys, args: readonly unknown[], method: MethodInfo) => string;

interface MethodInfo {
  readonly className: string;
  readonly methodName: string;
  readonly parameterNames: readonly (string | undefined)[];
}

type Tier = keyof TtlTiers;

interface TtlOption {
  /** Overrides the default TTL: seconds, a tier of CACHE_TTL_*, or a function of the arguments. */
  readonly ttl?: number | Tier | ((tiers: TtlTiers, ...args: never[]) => number);
}

/** User data under `users:{firstArgument}` (or `users:{id}:{facet}`); long TTL by default. */
export function CacheUserData(options: TtlOption & { readonly facet?: string } = {}) {
  return cached((keys, args) => keys.user(keyPart(args[0]), options.facet), options.ttl ?? 'long');
}

/**
 * A database query's result, under `api:db.{Class}.{method}:{hash of the arguments}` unless a
 * key is given (give one when an invalidation must find it, e.g. `keys.user(id, 'statistics')`).
 */
export function CacheDatabaseQuery(options: TtlOption & { readonly key?: (keys: CacheKeys, ...args: never[]) => string } = {}) {
  const keyOf: KeyOf = options.key === undefined
    ? (keys, args, method) => keys.api(`db.${method.className}.${method.methodName}`, args)
    : (keys, args) => options.key!(keys, ...(args as never[]));
  return cached(keyOf, options.ttl ?? 'medium');
}

/**
 * An upstream API response, under `api:{endpoint}:{hash of the parameters}`. `ignoreParams`
 * names parameters (or gives their positions) that must not split the cache, like a timestamp.
 */
export function CacheApiResponse(options: TtlOption & { readonly endpoint?: string; readonly ignoreParams?: readonly (string | number)[] } = {}) {
  const ignored = new Set(options.ignoreParams ?? []);
  return cached(
    (keys, args, method) => {
      const params: Record<string, unknown> = {};
      args.forEach((value, index) => {
        const name = method.parameterNames[index];
        if (!ignored.has(index) && (name === undefined || !ignored.has(name))) params[name ?? String(index)] = value;
      });
      return keys.api(options.endpoint ?? `${method.className}.${method.methodName}`, params);
    },
    options.ttl ?? 'medium',
  );
}

/**
 * Market data under `market:{symbol}:{timeframe}` from the first two arguments (`price` when
 * there is no second); further arguments, such as a bar count, are appended (`market:EUR_USD:H1:100`).
 */
export function CacheMarketData(options: TtlOption = {}) {
  return cached((keys, args) => {
    const [symbol, timeframe, ...rest] = args;
    return keys.market(keyPart(symbol), [timeframe === undefined ? 'price' : keyPart(timeframe), ...rest.map(keyPart)].join(':'));
  }, options.ttl ?? 'short');
}

/** Identifiers become key parts as they are; anything structured would be ambiguous, so it is refused. */
function keyPart(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw new TypeError(`cache key parts must be strings or numbers, got ${typeof value}`);
}

function cached(keyOf: KeyOf, ttl: NonNullable<TtlOption['ttl']>) {
  const ttlOf = (tiers: TtlTiers, args: never[]): number =>
    typeof ttl === 'number' ? ttl : typeof ttl === 'string' ? tiers[ttl] : ttl(tiers, ...args);
  return function decorate<Method extends AsyncMethod>(target: object, methodName: string, descriptor: TypedPropertyDescriptor<Method>): void {
    const original = descriptor.value;
    if (original === undefined) throw new TypeError(`@Cache… decorates methods only (${methodName})`);
    const method: MethodInfo = { className: target.constructor.name, methodName, parameterNames: parameterNames(original) };
    descriptor.value = function (this: CachingHost, ...args: never[]) {
      const key = keyOf(this.cacheKeys, args, method);
      return this.cache.getOrSet(key, () => original.apply(this, args), ttlOf(this.cache.ttl, args));
    } as Method;
  };
}

/** Parameter names from the compiled source (tsc keeps them); `undefined` for destructured ones. */
function parameterNames(fn: (...args: never[]) => unknown): (string | undefined)[] {
  const source = fn.toString();
  const open = source.indexOf('(');
  let depth = 0;
  let close = open;
  for (let i = open; i < source.length; i += 1) {
    if ('([{'.includes(source[i]!)) depth += 1;
    if (')]}'.includes(source[i]!)) depth -= 1;
    if (depth === 0) {
      close = i;
      break;
    }
  }
  const list = source.slice(open + 1, close);
  const parts: string[] = [];
  let current = '';
  depth = 0;
  for (const char of list) {
    if ('([{'.includes(char)) depth += 1;
    if (')]}'.includes(char)) depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (current.trim() !== '') parts.push(current);
  return parts.map((part) => /^\s*(?:\.\.\.)?([A-Za-z_$][\w$]*)/.exec(part)?.[1]);
}
