import { Field, ObjectType, registerEnumType } from 'type-graphql';

import { SIGNAL_EVENT_KINDS, type SignalEventKind } from './signal-events';
import { Signal } from './signal.type';

export const SignalEventKindEnum = Object.fromEntries(SIGNAL_EVENT_KINDS.map((k) => [k, k])) as { readonly [K in SignalEventKind]: K };
registerEnumType(SignalEventKindEnum, {
  name: 'SignalEventKind',
  valuesConfig: {
    CREATED: { description: 'A new signal' },
    STATUS_CHANGED: { description: 'A signal moved to a final status' },
    GAP: { description: 'Events after `id` could not be replayed (older than the replay window, or too many): re-read what you show' },
  },
});

@ObjectType({ description: 'A change to a signal, in the order the fleet published them' })
export class SignalEvent {
  @Field({ description: 'The event id: pass it as `after` (or SSE Last-Event-ID) to resume after it' })
  id!: string;

  @Field(() => SignalEventKindEnum)
  kind!: SignalEventKind;

  @Field(() => Signal, { nullable: true, description: 'The signal as it is after the change; null for GAP' })
  signal!: Signal | null;

  @Field(() => String, { nullable: true, description: 'Why events are missing (GAP only)' })
  message!: string | null;

  @Field()
  occurredAt!: Date;
}
