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
