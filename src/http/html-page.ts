/**
 * The document shell of the gateway's own pages (the GraphQL playground and the operator
 * console), served with a Content-Security-Policy of `script-src 'self'`: scripts are therefore
 * always files, never inline.
 */

export interface HtmlPage {
  /** Text of `<title>`. */
  readonly title: string;
  /** URL of the page's style sheet. */
  readonly stylesheet: string;
  /** An inline `<style>`: only for a page whose policy admits inline styles (`style-src 'unsafe-inline'`). */
  readonly inlineStyle?: string;
  /** The body's markup before its scripts, indented four spaces to sit inside `<body>`. */
  readonly body: string;
  /** URLs of the scripts, run in this order at the end of the body. */
  readonly scripts: readonly string[];
}

export function htmlPage(page: HtmlPage): string {
  const inlineStyle = page.inlineStyle === undefined ? '' : `\n    <style>${page.inlineStyle}</style>`;
  const scripts = page.scripts.map((url) => `\n    <script src="${escapeHtml(url)}"></script>`).join('');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="robots" content="noindex" />
    <link rel="icon" href="data:," />
    <title>${escapeHtml(page.title)}</title>
    <link rel="stylesheet" href="${escapeHtml(page.stylesheet)}" />${inlineStyle}
  </head>
  <body>
${page.body}${scripts}
  </body>
</html>
`;
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
