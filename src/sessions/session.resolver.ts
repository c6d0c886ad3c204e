import { Ctx, Mutation, Resolver } from 'type-graphql';

import { unauthenticated } from '../errors';
import type { RequestContext } from '../request-context';
import type { SessionsService } from './sessions.service';

@Resolver()
export class SessionResolver {
  constructor(private readonly sessions: SessionsService) {}

  @Mutation(() => Boolean, { description: 'Ends the session of the token sent: every later request with it is UNAUTHENTICATED. False for the admin token, which is no session.' })
  logout(@Ctx() { viewer }: RequestContext): Promise<boolean> {
    switch (viewer.kind) {
      case 'anonymous':
        throw unauthenticated();
      case 'admin':
        return Promise.resolve(false);
      case 'user':
        return this.sessions.revokeSession(viewer.tokenHash);
    }
  }
}
