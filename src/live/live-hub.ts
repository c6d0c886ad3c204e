import { createSourceEventStream, type DocumentNode, execute, type ExecutionResult, GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';

import type { Logger } from '../logger';
import { compareIds } from './event-log';
import type { LiveMessage } from './live-bus';
import { LiveInterest } from './live-interest';

/** One event of one subscription, executed and serialised once for every subscriber of it. */
export interface LiveFrame {
  /** The ExecutionResult as JSON. */
  readonly payload: Buffer;
  /** The event log id, for events that have one (SSE sends it as `id:`). */
  readonly eventId: string | undefined;
  /** See LiveInterestOptions.conflationKey. */
  readonly conflationKey: string | undefined;
}

/** One subscription of one client, as a transport delivers it. */
export interface LiveSubscriber {
  send(frame: LiveFrame): void;
}

/** A subscription operation, checked and resolved to its document by the transport. */
export interface LiveRequest<Viewer> {
  readonly document: DocumentNode;
  /** Names the document among others (its text); with the variables and the scope, it groups subscribers. */
  readonly documentKey: string;
  readonly operationName: string | undefined;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly viewer: Viewer;
  /** Whose private data the viewer may see (`user:42`): groups subscriptions that show private data. */
  readonly identity: string;
  /** The SSE `Last-Event-ID` of a reconnecting client, for fields that resume (their `after` argument wins). */
  readonly lastEventId: string | undefined;
}

export interface LiveHubOptions<Viewer> {
  readonly schema: GraphQLSchema;
  /** The per-event context (fresh loaders): `viewer` is the subscriber's for private documents, `undefined` (anyone) otherwise. */
  readonly contextFor: (viewer: Viewer | undefined, lastEventId?: string) => object;
  /** Whether a document can show private data: its events are then executed per viewer. */
  readonly showsPrivateData: (document: DocumentNode) => boolean;
  /** The errors as clients see them (masked like HTTP answers). */
  readonly formatErrors: (errors: readonly GraphQLError[]) => GraphQLFormattedError[];
  readonly logger: Logger;
}

export type Subscribed = { readonly kind: 'subscribed'; readonly unsubscribe: () => void } | { readonly kind: 'refused'; readonly errors: GraphQLFormattedError[] };

/** Counters for /metrics. */
export class LiveStats {
  /** Events executed: once per distinct subscription per event. */
  executions = 0;
  /** Frames handed to subscribers. */
  deliveries = 0;
  executionFailures = 0;
}

interface Member {
  readonly subscriber: LiveSubscriber;
  /** Frames that arrived while this member's replay was being sent: they go after it. */
  replaying: LiveFrame[] | undefined;
  lastEventId: string | undefined;
}

/**
 * Every subscriber of one (document, variables, scope): each event is executed once for all of
 * them, and the same bytes go to each. Events run one after another, so subscribers see them in
 * the order they came.
 */
class Group<Viewer> {
  readonly members = new Set<Member>();
  private chain: Promise<void> = Promise.resolve();
  release: () => void = () => undefined;

  constructor(
    readonly key: string,
    readonly request: LiveRequest<Viewer>,
    readonly interest: LiveInterest,
    /** The viewer events are executed as: the subscriber's for a private document, anyone's otherwise. */
    readonly scopeViewer: Viewer | undefined,
    private readonly hub: LiveHub<Viewer>,
  ) {}

  enqueue(message: LiveMessage): void {
    const { accepts } = this.interest.options;
    if (accepts !== undefined && !accepts(message.data)) return;
    this.chain = this.chain
      .then(async () => {
        if (this.members.size === 0) return;
        const frame = await this.hub.run(this, rootOf(message), message.id);
        for (const member of this.members) offer(member, frame);
      })
      // One event that could not go out must not stop the ones after it.
      .catch((error: unknown) => this.hub.failed(error));
  }
}

function offer(member: Member, frame: LiveFrame): void {
  if (member.replaying !== undefined) {
    member.replaying.push(frame);
    return;
  }
  if (frame.eventId !== undefined && member.lastEventId !== undefined && compareIds(frame.eventId, member.lastEventId) <= 0) return;
  if (frame.eventId !== undefined) member.lastEventId = frame.eventId;
  member.subscriber.send(frame);
}

/**
 * The instance's live subscriptions. A transport (graphql-ws, SSE) hands each subscription here;
 * events from the LiveBus are matched to subscriptions by topic, executed once per group of
 * identical subscriptions (same document, variables and, for documents showing private data,
 * viewer), serialised once, and offered to every subscriber of the group. How a subscriber's
 * frames reach its client, and what happens when it is slow, is the transport's (see Outbox).
 */
export class LiveHub<Viewer> {
  private readonly groups = new Map<string, Group<Viewer>>();
  private readonly byTopic = new Map<string, Set<Group<Viewer>>>();
  readonly stats = new LiveStats();

  constructor(private readonly options: LiveHubOptions<Viewer>) {}

  /** Subscriptions open on this instance, and distinct ones among them. */
  get size(): { subscriptions: number; groups: number } {
    let subscriptions = 0;
    for (const group of this.groups.values()) subscriptions += group.members.size;
    return { subscriptions, groups: this.groups.size };
  }

  /** An event from the bus: to every group listening to its topic. */
  dispatch(message: LiveMessage): void {
    const groups = this.byTopic.get(message.topic);
    if (groups === undefined) return;
    for (const group of groups) group.enqueue(message);
  }

  /**
   * Checks the subscription as graphql-js would (arguments, the field's own checks), then joins
   * or opens its group. A field that resumes sends its replay to this subscriber first.
   */
  async subscribe(request: LiveRequest<Viewer>, subscriber: LiveSubscriber): Promise<Subscribed> {
    const { schema, contextFor, formatErrors } = this.options;
    let source: AsyncIterable<unknown> | ExecutionResult;
    try {
      source = await createSourceEventStream({
        schema,
        document: request.document,
        operationName: request.operationName,
        variableValues: request.variables,
        contextValue: contextFor(request.viewer, request.lastEventId),
      });
    } catch (error) {
      // graphql-js throws (rather than returning errors) for a document that is not one subscription.
      return { kind: 'refused', errors: formatErrors([error instanceof GraphQLError ? error : new GraphQLError(String(error))]) };
    }
    if (!(source instanceof LiveInterest)) {
      const errors = 'errors' in source && source.errors !== undefined ? source.errors : [new GraphQLError('This subscription is not served live')];
      return { kind: 'refused', errors: formatErrors(errors) };
    }
    const personal = this.options.showsPrivateData(request.document);
    const key = `${request.documentKey}\n${request.operationName ?? ''}\n${stableJson(request.variables)}\n${personal ? request.identity : '*'}`;
    const group = this.groupFor(key, request, source, personal);
    const member: Member = { subscriber, replaying: source.options.resume === undefined ? undefined : [], lastEventId: undefined };
    group.members.add(member);
    if (source.options.resume !== undefined) await this.resume(group, member, source.options.resume);
    return { kind: 'subscribed', unsubscribe: () => this.leave(group, member) };
  }

  failed(error: unknown): void {
    this.stats.executionFailures += 1;
    this.options.logger.error({ err: error }, 'live: delivering an event failed');
  }

  /** Executes one event for a group: the one place events are executed and serialised. */
  async run(group: Group<Viewer>, root: unknown, eventId: string | undefined): Promise<LiveFrame> {
    const { request, interest, scopeViewer } = group;
    let result: ExecutionResult;
    try {
      result = await execute({
        schema: this.options.schema,
        document: request.document,
        operationName: request.operationName,
        variableValues: request.variables,
        rootValue: root,
        contextValue: this.options.contextFor(scopeViewer),
      });
    } catch (error) {
      this.stats.executionFailures += 1;
      this.options.logger.error({ err: error }, 'live: executing an event failed');
      result = { errors: [new GraphQLError('Internal server error')] };
    }
    this.stats.executions += 1;
    this.stats.deliveries += group.members.size;
    const body = result.errors === undefined ? { data: result.data } : { data: result.data, errors: this.options.formatErrors(result.errors) };
    return { payload: Buffer.from(JSON.stringify(body)), eventId, conflationKey: interest.options.conflationKey?.(root) };
  }

  private groupFor(key: string, request: LiveRequest<Viewer>, interest: LiveInterest, personal: boolean): Group<Viewer> {
    const existing = this.groups.get(key);
    if (existing !== undefined) return existing;
    const group = new Group(key, request, interest, personal ? request.viewer : undefined, this);
    this.groups.set(key, group);
    for (const topic of interest.topics) {
      let groups = this.byTopic.get(topic);
      if (groups === undefined) this.byTopic.set(topic, (groups = new Set()));
      groups.add(group);
    }
    if (interest.options.retain !== undefined) group.release = interest.options.retain();
    return group;
  }

  /** The replay, then what came meanwhile (without what the replay already sent). */
  private async resume(group: Group<Viewer>, member: Member, resume: NonNullable<LiveInterest['options']['resume']>): Promise<void> {
    try {
      const replay = await resume.log.replay(resume.after);
      if (replay.kind === 'gap') {
        member.subscriber.send(await this.run(group, resume.gap(replay.reason), undefined));
      } else {
        member.lastEventId = resume.after;
        const { accepts } = group.interest.options;
        for (const event of replay.events) {
          if (accepts !== undefined && !accepts(event.data)) continue;
          member.subscriber.send(await this.run(group, rootOf(event), event.id));
          member.lastEventId = event.id;
        }
      }
    } catch (error) {
      member.subscriber.send(await this.run(group, resume.gap(error instanceof GraphQLError ? error.message : 'The replay failed: events may have been missed'), undefined));
    }
    const waiting = member.replaying ?? [];
    member.replaying = undefined;
    for (const frame of waiting) offer(member, frame);
  }

  private leave(group: Group<Viewer>, member: Member): void {
    group.members.delete(member);
    if (group.members.size > 0 || this.groups.get(group.key) !== group) return;
    this.groups.delete(group.key);
    for (const topic of group.interest.topics) {
      const groups = this.byTopic.get(topic);
      groups?.delete(group);
      if (groups?.size === 0) this.byTopic.delete(topic);
    }
    group.release();
  }
}

/** What a field resolves an event from: its data, with its log id when it has one (`SignalEvent.id`). */
function rootOf(message: LiveMessage): unknown {
  return message.id !== undefined && message.data !== null && typeof message.data === 'object' ? { ...message.data, id: message.id } : message.data;
}

/** JSON with object keys sorted, so that the same variables in another order group together. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : item,
  );
}
