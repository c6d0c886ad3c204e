import { timingSafeEqual } from 'node:crypto';

import { unauthenticated } from '../errors';
import { hashToken } from './sessions.repository';
import type { SessionsService } from './sessions.service';
import { ANONYMOUS, MAX_BEARER_TOKEN_LENGTH, type Viewer } from './viewer';

const BEARER = new RegExp(`^Bearer\\s+(\\S{1,${MAX_BEARER_TOKEN_LENGTH}})$`, 'i');

/**
 * Turns an `Authorization` header into a Viewer. No header is an anonymous viewer; a header with
 * a token that is neither the admin token nor a live session is refused (UNAUTHENTICATED), so a
 * client with an expired session learns it instead of silently seeing public data.
 */
export class Authenticator {
  private readonly adminToken: Buffer | undefined;

  constructor(
    private readonly sessions: Pick<SessionsService, 'findUserIdByToken'>,
    adminApiToken: string | undefined,
  ) {
    this.adminToken = adminApiToken === undefined ? undefined : Buffer.from(adminApiToken);
  }

  async authenticate(authorization: string | undefined): Promise<Viewer> {
    if (authorization === undefined || authorization === '') return ANONYMOUS;
    const match = BEARER.exec(authorization.trim());
    if (match === null) throw unauthenticated('Authorization header must be "Bearer <token>"');
    const token = match[1]!;
    if (this.isAdminToken(token)) return { kind: 'admin' };
    const userId = await this.sessions.findUserIdByToken(token);
    if (userId === null) throw unauthenticated('Invalid or expired token');
    return { kind: 'user', userId, tokenHash: hashToken(token) };
  }

  /** Constant-time, so response timing does not reveal how much of the admin token was right. */
  private isAdminToken(token: string): boolean {
    if (this.adminToken === undefined) return false;
    const candidate = Buffer.from(token);
    return candidate.length === this.adminToken.length && timingSafeEqual(candidate, this.adminToken);
  }
}
