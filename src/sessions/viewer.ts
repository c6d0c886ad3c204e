/** Who is asking: decided once per request from the `Authorization` header. */
export type Viewer = { readonly kind: 'anonymous' } | { readonly kind: 'user'; readonly userId: number } | { readonly kind: 'admin' };

export const ANONYMOUS: Viewer = Object.freeze({ kind: 'anonymous' });

/** Whether the viewer may see and change the private data of `userId`. */
export function actsFor(viewer: Viewer, userId: number): boolean {
  switch (viewer.kind) {
    case 'admin':
      return true;
    case 'user':
      return viewer.userId === userId;
    case 'anonymous':
      return false;
  }
}

/** Ends sessions: the database rows and their cached lookups, on every instance. */
export interface SessionRevoker {
  /** Ends the session with this token hash; false when there was none. */
  revokeSession(tokenHash: string): Promise<boolean>;
  /** Ends every session of the user; returns how many there were. */
  revokeUserSessions(userId: number): Promise<number>;
}

/** The credentials a viewer came with, and the store that can end them. */
export interface ViewerSession {
  /** The hash of the session token; `undefined` for the admin token. */
  readonly tokenHash: string | undefined;
  readonly revoker: SessionRevoker;
}

/**
 * Kept beside each viewer rather than in it, so that a Viewer stays a plain value that can be
 * compared and logged without its session. Filled by the Authenticator.
 */
const sessions = new WeakMap<Viewer, ViewerSession>();

export function attachSession<V extends Viewer>(viewer: V, session: ViewerSession): V {
  sessions.set(viewer, session);
  return viewer;
}

/** The session the viewer authenticated with; `undefined` for anonymous viewers (and viewers made elsewhere than the Authenticator). */
export function sessionOf(viewer: Viewer): ViewerSession | undefined {
  return sessions.get(viewer);
}
