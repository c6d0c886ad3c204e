import { IsOptional, Matches } from 'class-validator';
import { ArgsType, Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';

import type { CacheStatus } from '../cache/redis-health';
import { IsId } from '../graphql/validators';
import { IsInstrument } from '../market/instruments';
import { WARMING_STRATEGIES, type WarmingStrategyName } from '../warming/warming.service';
import { INVALIDATION_SCOPES, type InvalidationScope, OPERATOR_PATTERN } from './cache-admin.service';

const enumOf = <T extends string>(values: readonly T[], upper: (value: T) => string) => Object.fromEntries(values.map((v) => [upper(v), v])) as Record<string, T>;

export const CacheStatusEnum = enumOf<CacheStatus>(['healthy', 'degraded', 'unhealthy'], (v) => v.toUpperCase());
registerEnumType(CacheStatusEnum, { name: 'CacheStatus', description: 'HEALTHY: Redis serves. DEGRADED: the in-memory tier serves while Redis recovers. UNHEALTHY: it has for over 30 s.' });

export const InvalidationScopeEnum = enumOf<InvalidationScope>(INVALIDATION_SCOPES, (v) => v.toUpperCase());
registerEnumType(InvalidationScopeEnum, { name: 'InvalidationScope' });

export const WarmingStrategyEnum = enumOf<WarmingStrategyName>(WARMING_STRATEGIES, (v) => v.toUpperCase());
registerEnumType(WarmingStrategyEnum, { name: 'WarmingStrategy' });

@ObjectType({ description: 'Cache counters in the seed shape: rates in percent, times in milliseconds' })
export class CacheCounters {
  @Field(() => Float)
  hitRate!: number;

  @Field(() => Float)
  errorRate!: number;

  @Field(() => Int)
  totalOperations!: number;

  @Field(() => Int)
  hits!: number;

  @Field(() => Int)
  misses!: number;

  @Field(() => Int)
  errors!: number;

  @Field(() => Float)
  averageResponseTimeMs!: number;

  @Field(() => Float)
  p50ResponseTimeMs!: number;

  @Field(() => Float)
  p99ResponseTimeMs!: number;
}

@ObjectType()
export class CacheTierMetrics {
  @Field({ description: 'redis or memory' })
  tier!: string;

  @Field(() => CacheCounters)
  metrics!: CacheCounters;
}

@ObjectType({ description: 'Whole-response cache counters' })
export class ResponseCacheCounters {
  @Field(() => Int)
  hits!: number;

  @Field(() => Int, { description: 'Served from the in-process copy' })
  nearHits!: number;

  @Field(() => Int, { description: 'Served from Redis (or the memory tier while Redis is down)' })
  sharedHits!: number;

  @Field(() => Int)
  misses!: number;

  @Field(() => Int)
  stores!: number;

  @Field(() => Int, { description: 'Operations actually executed' })
  executions!: number;

  @Field(() => Int, { description: 'Requests that waited for an identical one in flight instead of executing' })
  coalesced!: number;

  @Field(() => Int, { description: 'Misses answered by the response another gateway instance executed and stored' })
  fleetCoalesced!: number;

  @Field(() => Int, { description: 'Responses that could not be cached (mutations, errors, no hint, introspection)' })
  uncacheable!: number;

  @Field(() => Int, { description: '304 answers to If-None-Match' })
  notModified!: number;
}

@ObjectType({ description: 'The cache as the gateway sees it, plus each tier on its own' })
export class CacheMetrics extends CacheCounters {
  @Field()
  fallbackEnabled!: boolean;

  @Field()
  connectionHealthy!: boolean;

  @Field(() => Int, { description: 'Values that could not be decoded: counted as misses and removed' })
  corruptValues!: number;

  @Field(() => Int, { description: 'Loads from the data sources after a miss' })
  loads!: number;

  @Field(() => Int, { description: 'Callers that joined a load already running instead of starting one' })
  coalesced!: number;

  @Field(() => Int, { description: 'Misses answered by the value another gateway instance loaded and stored' })
  fleetCoalesced!: number;

  @Field(() => [CacheTierMetrics])
  tiers!: CacheTierMetrics[];

  @Field(() => ResponseCacheCounters, { nullable: true, description: 'null when the response cache is off' })
  responseCache!: ResponseCacheCounters | null;
}

@ObjectType()
export class CacheHealth {
  @Field(() => CacheStatusEnum)
  status!: CacheStatus;

  @Field()
  connectionHealthy!: boolean;

  @Field()
  fallbackEnabled!: boolean;

  @Field(() => Int, { description: 'Invalidations waiting for Redis to come back' })
  pendingInvalidations!: number;

  @Field(() => CacheCounters)
  metrics!: CacheCounters;
}

@ObjectType()
export class WarmingStrategyMetrics {
  @Field(() => WarmingStrategyEnum)
  name!: WarmingStrategyName;

  @Field({ description: 'Outcome of the last run' })
  success!: boolean;

  @Field(() => Int)
  itemsProcessed!: number;

  @Field(() => Int)
  durationMs!: number;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => Int)
  runs!: number;

  @Field(() => Int)
  failures!: number;

  @Field(() => Date, { nullable: true })
  lastRunAt!: Date | null;
}

@ObjectType()
export class WarmingMetrics {
  @Field()
  enabled!: boolean;

  @Field()
  running!: boolean;

  @Field(() => Int)
  intervalSeconds!: number;

  @Field(() => Int)
  maxConcurrent!: number;

  @Field(() => Int)
  runs!: number;

  @Field(() => Int)
  skippedRuns!: number;

  @Field(() => Date, { nullable: true })
  lastRunAt!: Date | null;

  @Field(() => [WarmingStrategyMetrics])
  strategies!: WarmingStrategyMetrics[];
}

@ObjectType()
export class WarmingRunResult {
  @Field({ description: 'False when another run was in progress (here or on another instance)' })
  ran!: boolean;

  @Field(() => String, { nullable: true })
  skippedReason!: string | null;

  @Field(() => Int)
  durationMs!: number;

  @Field(() => [WarmingStrategyMetrics], { description: 'Per strategy, for this run' })
  results!: WarmingStrategyMetrics[];
}

@ObjectType()
export class InvalidationResult {
  @Field(() => InvalidationScopeEnum)
  scope!: InvalidationScope;

  @Field(() => Int, { description: 'Entries removed now (an invalidation waiting for Redis is applied when it returns)' })
  removed!: number;
}

/** Its optional fields may come as `null`, which means left out (the resolver reads them through nullsAsAbsent). */
@InputType({ description: 'USER needs id; SIGNALS and MARKET take an optional symbol; PATTERN needs a pattern relative to the key prefix' })
export class InvalidateCacheInput {
  @Field(() => InvalidationScopeEnum)
  scope!: InvalidationScope;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsId()
  id?: number | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsInstrument()
  symbol?: string | null;

  @Field(() => String, { nullable: true, description: 'For example signals:*:latest:*; letters, digits, _ : - * ?' })
  @IsOptional()
  @Matches(OPERATOR_PATTERN, { message: 'pattern may hold letters, digits, _ : - and the wildcards * ? only (1 to 200 characters)' })
  pattern?: string | null;
}

@ArgsType()
export class RevokeUserSessionsArgs {
  @Field(() => Int)
  @IsId()
  userId!: number;
}
