import type { GraphQLError } from 'graphql';

import type { RateLimitedAnswer, RateLimitGate } from '../http/rate-limit-gate';

/** Who a live connection belongs to, as the sessions feature decides it. */
export interface LiveViewers<Viewer> {
  /** A refused credential throws (a GraphQLError with code UNAUTHENTICATED); none is the anonymous viewer. */
  authenticate(authorization: string | undefined): Promise<Viewer>;
  /** Whose private data the viewer sees (`user:42`, `admin`, `anonymous`). */
  identity(viewer: Viewer): string;
  /** Whether the credential the viewer came with still holds (a session can expire or be revoked); true for the admin and anonymous. */
  stillValid(viewer: Viewer): Promise<boolean>;
  /** Whether the viewer keeps free text under PERSISTED_DOCUMENTS_MODE=require (the admin). */
  trusted(viewer: Viewer): boolean;
}

export interface Admitted<Viewer> {
  readonly viewer: Viewer;
  readonly identity: string;
  /** Ends the connection's share of its viewer's allowance. */
  release(): void;
}

export type Admission<Viewer> =
  | { readonly ok: true; readonly admitted: Admitted<Viewer> }
  | { readonly ok: false; readonly reason: 'unauthenticated' | 'too_many'; readonly message: string }
  /** A refused credential after its address spent its budget on refused ones. */
  | { readonly ok: false; readonly reason: 'rate_limited'; readonly message: string; readonly rateLimited: RateLimitedAnswer };

/**
 * The door of both live transports: the credential checked, and at most
 * `maxConnectionsPerViewer` connections open per viewer (a user, the admin, or an anonymous
 * client by address), so that no one client holds the instance's sockets.
 */
export class LiveGate<Viewer> {
  private readonly open = new Map<string, number>();

  constructor(
    readonly viewers: LiveViewers<Viewer>,
    private readonly maxConnectionsPerViewer: number,
    /** Without it (rate limits off), a refused credential costs nothing. */
    private readonly rateLimits?: Pick<RateLimitGate, 'chargeRefusedCredential' | 'refusal' | 'refusalErrors'>,
  ) {}

  async admit(authorization: string | undefined, clientAddress: string): Promise<Admission<Viewer>> {
    let viewer: Viewer;
    try {
      viewer = await this.viewers.authenticate(authorization);
    } catch (error) {
      const message = (error as GraphQLError).message ?? 'Invalid credentials';
      const refusal = await this.rateLimits?.chargeRefusedCredential(clientAddress);
      if (this.rateLimits !== undefined && refusal !== undefined) {
        return { ok: false, reason: 'rate_limited', message: this.rateLimits.refusalErrors(refusal)[0].message, rateLimited: this.rateLimits.refusal(refusal) };
      }
      return { ok: false, reason: 'unauthenticated', message };
    }
    const identity = this.viewers.identity(viewer);
    const key = identity === 'anonymous' ? `address:${clientAddress}` : identity;
    const count = this.open.get(key) ?? 0;
    if (count >= this.maxConnectionsPerViewer) return { ok: false, reason: 'too_many', message: `Too many live connections for this viewer (at most ${this.maxConnectionsPerViewer})` };
    this.open.set(key, count + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left <= 0) this.open.delete(key);
      else this.open.set(key, left);
    };
    return { ok: true, admitted: { viewer, identity, release } };
  }
}
