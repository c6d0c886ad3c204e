export const USER_TIERS = ['FREE', 'PRO', 'INSTITUTIONAL'] as const;
export type UserTier = (typeof USER_TIERS)[number];

/** A user as stored. `email` is private: the GraphQL layer shows it only to its owner and admins. */
export interface UserRecord {
  readonly id: number;
  readonly username: string;
  readonly email: string;
  readonly displayName: string;
  readonly tier: UserTier;
  readonly isActive: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface UserPatch {
  readonly displayName?: string | undefined;
  readonly email?: string | undefined;
}
