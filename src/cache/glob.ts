/**
 * Redis glob patterns (SCAN MATCH). Identifiers taken from requests are always escaped, so an id
 * like `*` can never widen `users:{id}:*` into every user's keys.
 */

const GLOB_SPECIALS = /[*?[\]\\^]/g;

/** Makes `text` match itself only inside a glob. */
export function escapeGlob(text: string): string {
  return text.replace(GLOB_SPECIALS, (special) => `\\${special}`);
}

/** The same matching rules Redis applies (`*`, `?`, `[...]`, `\` escapes), for the memory tier. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i]!;
    if (char === '\\' && i + 1 < pattern.length) {
      i += 1;
      source += escapeRegExp(pattern[i]!);
    } else if (char === '*') {
      source += '[\\s\\S]*';
    } else if (char === '?') {
      source += '[\\s\\S]';
    } else if (char === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) {
        source += '\\[';
      } else {
        const body = pattern.slice(i + 1, end);
        source += body.startsWith('^') ? `[^${escapeClass(body.slice(1))}]` : `[${escapeClass(body)}]`;
        i = end;
      }
    } else {
      source += escapeRegExp(char);
    }
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Inside a class only `\`, `]` and `^` mean something to RegExp; `-` keeps its range meaning as in Redis. */
function escapeClass(text: string): string {
  return text.replace(/[\\\]^]/g, '\\$&');
}
