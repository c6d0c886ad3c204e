/** Who is asking: decided once per request from the `Authorization` header. */
export type Viewer =
  | { readonly kind: 'anonymous' }
  /** `tokenHash` names the session the request came with, so that the viewer can end it (logout). */
  | { readonly kind: 'user'; readonly userId: number; readonly tokenHash: string }
  | { readonly kind: 'admin' };

/** The longest token an `Authorization: Bearer` header may carry (the Authenticator refuses longer ones unread; loadConfig refuses a longer ADMIN_API_TOKEN). */
export const MAX_BEARER_TOKEN_LENGTH = 512;

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
