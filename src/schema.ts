import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';

import { buildGraphqlSchema, type ResolverBinding } from './graphql/build-schema';
import { MarketResolver } from './market/market.resolver';
import type { MarketService } from './market/market.service';
import type { CacheAdminService } from './operator/cache-admin.service';
import { OperatorResolver } from './operator/operator.resolver';
import { SessionResolver } from './sessions/session.resolver';
import type { SessionsService } from './sessions/sessions.service';
import { SignalConnectionResolver } from './signals/signal-connection.resolver';
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

/** SDL of the schema as committed in `schema/schema.graphql` (sorted, so the diff shows real changes only). */
export async function printGatewaySchema(): Promise<string> {
  // Printing never calls a resolver, so no services are needed.
  const unused = new Proxy({}, { get: () => { throw new Error('schema printing must not call services'); } });
  const schema = await buildGatewaySchema({ users: unused, signals: unused, market: unused, admin: unused, sessions: unused } as unknown as SchemaServices);
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

function bindings(services: SchemaServices): ResolverBinding[] {
  return [
    [UserResolver, new UserResolver(services.users, services.signals)],
    [SignalResolver, new SignalResolver(services.signals)],
    [SignalConnectionResolver, new SignalConnectionResolver(services.signals)],
    [MarketResolver, new MarketResolver(services.market)],
    [OperatorResolver, new OperatorResolver(services.admin)],
    [SessionResolver, new SessionResolver(services.sessions)],
  ];
}
