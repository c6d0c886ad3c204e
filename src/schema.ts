import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';

import { buildGraphqlSchema, type ResolverBinding } from './graphql/build-schema';
import { MarketResolver } from './market/market.resolver';
import { MarketSubscriptionResolver } from './market/market.subscription';
import type { MarketService } from './market/market.service';
import type { CacheAdminService } from './operator/cache-admin.service';
import { OperatorResolver } from './operator/operator.resolver';
import { SessionResolver } from './sessions/session.resolver';
import type { SessionsService } from './sessions/sessions.service';
import { SignalConnectionResolver } from './signals/signal-connection.resolver';
import { SignalEventsResolver } from './signals/signal-events.resolver';
import { SignalResolver } from './signals/signal.resolver';
import type { SignalsService } from './signals/signals.service';
import { UserResolver } from './users/user.resolver';
import type { UsersService } from './users/users.service';

export interface SchemaServices {
  readonly users: UsersService;
  readonly signals: SignalsService;
  readonly market: MarketService;
  readonly admin: CacheAdminService;
  readonly sessions: SessionsService;
}

/** The gateway's schema, every resolver bound to its instance. */
export function buildGatewaySchema(services: SchemaServices): Promise<GraphQLSchema> {
  return buildGraphqlSchema(bindings(services));
}

/** The schema's types without services, for what never runs a resolver: printing it, validating documents against it. */
export function buildTypesOnlySchema(): Promise<GraphQLSchema> {
  const unused = new Proxy({}, { get: () => { throw new Error('a types-only schema must not call services'); } });
  return buildGatewaySchema({ users: unused, signals: unused, market: unused, admin: unused, sessions: unused } as unknown as SchemaServices);
}

/** SDL of the schema as committed in `schema/schema.graphql` (sorted, so the diff shows real changes only). */
export async function printGatewaySchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await buildTypesOnlySchema()))}\n`;
}

function bindings(services: SchemaServices): ResolverBinding[] {
  return [
    [UserResolver, new UserResolver(services.users, services.signals)],
    [SignalResolver, new SignalResolver(services.signals)],
    [SignalConnectionResolver, new SignalConnectionResolver(services.signals)],
    [MarketResolver, new MarketResolver(services.market)],
    [OperatorResolver, new OperatorResolver(services.admin)],
    [SessionResolver, new SessionResolver(services.sessions)],
    [MarketSubscriptionResolver, new MarketSubscriptionResolver()],
    [SignalEventsResolver, new SignalEventsResolver()],
  ];
}
