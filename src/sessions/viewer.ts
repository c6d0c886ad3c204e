/** Who is asking: decided once per request from the `Authorization` header. */
export type Viewer =
  | { readonly kind: 'anonymous' }
  /** `tokenHash` names the session the request came with, so that the viewer can end it (logout). */
  | { readonly kind: 'user'; readonly userId: number; readonly tokenHash: string }
  | { readonly kind: 'admin' };

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
