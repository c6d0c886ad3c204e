/*
 * Cache tags as a CDN sees them: the tokens of a response's surrogate-key header, and the tokens a
 * purge of a tag must name. The two are spelled here together because they must agree: whatever
 * a response's header leaves out has to be reached by the purges of what it left out.
 *
 * A tag is `Kind:detail` (specific) or `Kind` (its umbrella); see cache/cache-tags.ts. When a
 * response names too many tags for one header (a page of signals names every signal, its author
 * and its instrument), the specific tags of the largest kinds are replaced by the kind's collapse
 * token `Kind:~`, and every purge of a specific tag `Kind:x` also names `Kind:~`. Replacing them by
 * the umbrella alone would not do: an invalidation of one signal names `Signal:7` and never the
 * umbrella `Signal` (see cache-invalidator.ts), so a response showing only `Signal` would stay.
 * The price is over-purging: a collapsed response goes with any change of its collapsed kinds.
 */

/** The collapse token of a kind whose specific tags a header left out; also of tags unfit for a header. */
const COLLAPSED = '~';

/**
 * What may stand in a header as one token: visible ASCII without the separators CDNs use (space,
 * comma) and without quotes. Tags come from validated identifiers, so this should never refuse one;
 * one it refuses is represented by its kind's collapse token instead, never dropped.
 */
const HEADER_TOKEN = /^[\x21-\x7e]+$/;
const fitsHeader = (tag: string) => HEADER_TOKEN.test(tag) && !tag.includes(',') && !tag.includes('"');

function kindOf(tag: string): string {
  const colon = tag.indexOf(':');
  return colon === -1 ? tag : tag.slice(0, colon);
}

/** `Kind:~` for a tag of a kind a header can name; `~` for the (never expected) rest. */
function collapseTokenOf(tag: string): string {
  const kind = kindOf(tag);
  return fitsHeader(kind) ? `${kind}:${COLLAPSED}` : COLLAPSED;
}

/**
 * The tokens of a response's surrogate-key header, at most `maxBytes` once joined with `separator`;
 * `undefined` when even the collapsed form does not fit (the caller must then keep shared caches
 * from storing the response, since no purge could name it exactly).
 */
export function surrogateKeysOf(tags: readonly string[], maxBytes: number, separator = ' '): string | undefined {
  const kept = new Set<string>();
  const specificByKind = new Map<string, string[]>();
  for (const tag of tags) {
    if (!fitsHeader(tag)) {
      kept.add(collapseTokenOf(tag));
    } else if (tag.includes(':')) {
      const specific = specificByKind.get(kindOf(tag)) ?? [];
      specific.push(tag);
      specificByKind.set(kindOf(tag), specific);
    } else {
      kept.add(tag);
    }
  }
  const joinedLength = (tokens: Iterable<string>) => {
    let length = 0;
    let count = 0;
    for (const token of tokens) {
      length += token.length;
      count += 1;
    }
    return length + Math.max(0, count - 1) * separator.length;
  };
  const all = () => [...kept, ...[...specificByKind.values()].flat()];
  // The heaviest kinds first: fewest tokens lost for the bytes saved.
  const byWeight = [...specificByKind.entries()].sort(([, a], [, b]) => joinedLength(b) - joinedLength(a));
  for (const [kind] of byWeight) {
    if (joinedLength(all()) <= maxBytes) break;
    specificByKind.delete(kind);
    kept.add(`${kind}:${COLLAPSED}`);
    // The umbrella too, so that "all of a kind" reaches it whatever the response recorded.
    kept.add(kind);
  }
  const tokens = all();
  return joinedLength(tokens) <= maxBytes ? tokens.join(separator) : undefined;
}

/**
 * The header tokens that a purge of `tag` must ban: the tag itself (when a header could carry it)
 * and, for a specific tag, its kind's collapse token. An umbrella needs no more: every response
 * that names a specific tag of the kind also names the umbrella (collapsed or not).
 */
export function purgeTokensOf(tag: string): string[] {
  if (!fitsHeader(tag)) return [collapseTokenOf(tag)];
  return tag.includes(':') ? [tag, collapseTokenOf(tag)] : [tag];
}

/** Tags grouped for purge requests: each group's tokens, joined, stay within `maxBytes` (unless one tag alone is longer). */
export function purgeBatches(tags: Iterable<string>, maxBytes: number, separator = ' '): { readonly tags: readonly string[]; readonly tokens: readonly string[] }[] {
  const batches: { tags: string[]; tokens: Set<string> }[] = [];
  let current: { tags: string[]; tokens: Set<string> } | undefined;
  let length = 0;
  for (const tag of new Set(tags)) {
    const tokens = purgeTokensOf(tag);
    const added = tokens.filter((token) => current?.tokens.has(token) !== true).reduce((sum, token) => sum + separator.length + token.length, 0);
    if (current === undefined || length + added > maxBytes) {
      current = { tags: [], tokens: new Set() };
      batches.push(current);
      length = -separator.length;
    }
    current.tags.push(tag);
    for (const token of tokens) {
      if (current.tokens.has(token)) continue;
      current.tokens.add(token);
      length += separator.length + token.length;
    }
  }
  return batches.map((batch) => ({ tags: batch.tags, tokens: [...batch.tokens] }));
}
