import { Args, Resolver, Root, Subscription } from 'type-graphql';

import { validateArgs } from '../graphql/validate-args';
import { liveSources } from '../request-context';
import { SignalEventsArgs } from './signal.args';
import { SignalEvent } from './signal-event.type';
import { reviveSignal, type SignalEventRoot } from './signal-events';

@Resolver()
export class SignalEventsResolver {
  @Subscription(() => SignalEvent, {
    description: 'Signals created or changing status, optionally of some instruments or one author. Replayable: pass `after` (or SSE Last-Event-ID) to get what was missed within SUBSCRIPTION_REPLAY_SECONDS.',
    subscribe: async ({ args, context }) => {
      await validateArgs(Object.assign(new SignalEventsArgs(), args));
      const sources = liveSources(context);
      return sources.signals.interest(args as SignalEventsArgs, sources.lastEventId);
    },
  })
  signalEvents(@Root() event: SignalEventRoot, @Args() _args: SignalEventsArgs): SignalEvent {
    if (event.kind === 'GAP') return { id: event.id, kind: 'GAP', signal: null, message: event.message, occurredAt: new Date(event.occurredAt) };
    return { id: event.id, kind: event.kind, signal: reviveSignal(event.signal), message: null, occurredAt: new Date(event.occurredAt) };
  }
}
