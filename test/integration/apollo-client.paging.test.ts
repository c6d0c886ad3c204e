import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { filter, firstValueFrom, map } from 'rxjs';

import { SignalFeedDocument, type SignalFeedQuery, type SignalFeedQueryVariables } from '../../src/generated/graphql';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * A front end scrolling a signal feed to its end, built as an Apollo Client 4 application would
 * be: the generated SignalFeed document, an HttpLink over Node's fetch to a real gateway, and an
 * InMemoryCache whose relayStylePagination field policy merges the pages of one list into one
 * (its keyArgs are the filters, so `first` and `after` do not split the list). What the client's
 * cache ends up holding is compared with what the database holds.
 */

/** The arguments that tell one list from another; the paging arguments are not among them. */
const LIST_FILTERS = ['symbol', 'timeframe', 'status', 'direction', 'authorId'];
/** The largest page the gateway serves: a list of about 2,000 signals in 20 requests. */
const PAGE_SIZE = 100;
/** The instrument with the fewest demo signals (1,949), to keep the scroll short. */
const SYMBOL = 'USD_CHF';

type Feed = SignalFeedQuery['signalsConnection'];

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
}, 60_000);

afterAll(() => gateway?.close());

/** A client with a cache of its own, as each browser tab has. */
function frontEnd(): ApolloClient {
  return new ApolloClient({
    link: new HttpLink({ uri: `${gateway.url}/graphql`, fetch }),
    cache: new InMemoryCache({ typePolicies: { Query: { fields: { signalsConnection: relayStylePagination(LIST_FILTERS) } } } }),
  });
}

/**
 * Opens the feed of `variables` as a watched query (what a list component does), then asks for
 * the next page with `fetchMore({ variables: { after: endCursor } })` until `hasNextPage` is
 * false, as infinite scroll does. Returns the merged feed as the watched query last showed it,
 * and how many pages were requested.
 */
async function scrollToTheEnd(client: ApolloClient, variables: SignalFeedQueryVariables): Promise<{ feed: Feed; pages: number }> {
  const query = client.watchQuery({ query: SignalFeedDocument, variables: { ...variables, first: PAGE_SIZE } });
  const shown = query.pipe(
    filter((result) => result.dataState === 'complete'),
    map((result) => result.data.signalsConnection),
  );
  // Subscribed for the whole scroll, like a mounted component: the query stays active and shows what the cache holds.
  const subscription = shown.subscribe(() => {});
  try {
    let feed = await firstValueFrom(shown);
    let pages = 1;
    while (feed.pageInfo.hasNextPage) {
      const before = feed.edges.length;
      await query.fetchMore({ variables: { after: feed.pageInfo.endCursor } });
      pages += 1;
      // The page is merged into the cache when fetchMore resolves (checked here, so that a failed merge
      // fails at once); the watched query shows it when the cache next broadcasts.
      expect(cachedFeed(client, variables).edges.length).toBeGreaterThan(before);
      feed = await firstValueFrom(shown.pipe(filter((merged) => merged.edges.length > before)));
    }
    return { feed, pages };
  } finally {
    subscription.unsubscribe();
  }
}

/** The merged list as the client's cache holds it, read back without the network. */
function cachedFeed(client: ApolloClient, variables: SignalFeedQueryVariables): Feed {
  const cached = client.readQuery({ query: SignalFeedDocument, variables });
  expect(cached).not.toBeNull();
  return cached!.signalsConnection;
}

/** The ids of a list as the database orders them: newest first, by creation time then id. */
async function idsInDatabase(where: string, params: unknown[]): Promise<number[]> {
  const rows = await gateway.gateway.db.query<{ id: number }>('test.ids', `select id from trading_signals where ${where} order by created_at desc, id desc`, params);
  return rows.map((row) => row.id);
}

const idsOf = (feed: Feed) => feed.edges.map((edge) => edge.node.id);

describe('Apollo Client paging through signals with relayStylePagination', () => {
  describe("when a front end scrolls an instrument's feed to its end with fetchMore", () => {
    it("then its cache holds the whole list once: totalCount distinct signals, newest first, exactly the database's", async () => {
      const client = frontEnd();
      const { feed, pages } = await scrollToTheEnd(client, { symbol: SYMBOL });
      const inDatabase = await idsInDatabase('symbol = $1', [SYMBOL]);

      const cached = cachedFeed(client, { symbol: SYMBOL });
      expect(idsOf(cached)).toEqual(idsOf(feed));
      expect(cached.totalCount).toBe(inDatabase.length);
      expect(new Set(idsOf(cached)).size).toBe(cached.totalCount);
      expect(idsOf(cached)).toEqual(inDatabase);
      expect(cached.edges.every((edge) => edge.node.symbol === SYMBOL)).toBe(true);
      expect(cached.pageInfo.hasNextPage).toBe(false);
      expect(pages).toBe(Math.ceil(inDatabase.length / PAGE_SIZE));
    });
  });

  describe('when a second client, with a cache of its own, scrolls a filtered feed (the instrument and status ACTIVE)', () => {
    it('then it gets exactly the active signals of the instrument, as many as its totalCount says', async () => {
      const client = frontEnd();
      const { feed } = await scrollToTheEnd(client, { symbol: SYMBOL, status: 'ACTIVE' });
      const inDatabase = await idsInDatabase('symbol = $1 and status = $2', [SYMBOL, 'ACTIVE']);

      const cached = cachedFeed(client, { symbol: SYMBOL, status: 'ACTIVE' });
      expect(idsOf(cached)).toEqual(idsOf(feed));
      expect(cached.totalCount).toBe(inDatabase.length);
      expect(new Set(idsOf(cached)).size).toBe(cached.totalCount);
      expect(idsOf(cached)).toEqual(inDatabase);
      expect(cached.edges.every((edge) => edge.node.symbol === SYMBOL && edge.node.status === 'ACTIVE')).toBe(true);
    });

    it('then, the filters being keyArgs, the unfiltered feed of the same instrument stays a list of its own in the same cache', async () => {
      const client = frontEnd();
      await scrollToTheEnd(client, { symbol: SYMBOL, status: 'ACTIVE' });
      expect(client.readQuery({ query: SignalFeedDocument, variables: { symbol: SYMBOL } })).toBeNull();
      const { feed } = await scrollToTheEnd(client, { symbol: SYMBOL });
      expect(idsOf(feed)).toEqual(await idsInDatabase('symbol = $1', [SYMBOL]));
      const active = cachedFeed(client, { symbol: SYMBOL, status: 'ACTIVE' });
      expect(active.edges).toHaveLength(active.totalCount);
      expect(active.edges.every((edge) => edge.node.status === 'ACTIVE')).toBe(true);
    });
  });
});
