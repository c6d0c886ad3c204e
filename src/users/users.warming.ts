import type { SignalsService } from '../signals/signals.service';
import type { WarmingStrategy } from '../warming/warming.service';
import type { UsersService } from './users.service';

/** Users warmed per run, newest activity first, in batches of one query each. */
const ACTIVE_USERS = 500;
const BATCH = 100;

/** Seed strategy "user data": active users' profiles and their statistics. */
export function userDataWarming(users: UsersService, signals: SignalsService): WarmingStrategy {
  return {
    name: 'user_data',
    async run(limit) {
      const ids = await limit(() => users.activeUserIds(ACTIVE_USERS));
      const batches = Array.from({ length: Math.ceil(ids.length / BATCH) }, (_, i) => ids.slice(i * BATCH, (i + 1) * BATCH));
      await Promise.all(batches.flatMap((batch) => [limit(() => users.getUsers(batch)), limit(() => signals.statisticsForUsers(batch))]));
      return ids.length;
    },
  };
}
