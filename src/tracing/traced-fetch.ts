import { SpanKind, SpanStatusCode } from '@opentelemetry/api';

import { endAfter, type Tracing } from './tracing';

/**
 * `fetch` with a CLIENT span per call and W3C `traceparent` sent onwards, for the gateway's own
 * HTTP calls (the OANDA provider, CDN purges). An unsampled request's incoming trace is passed on
 * too, without a span. Only for calls whose `headers` are a plain object (all of ours).
 */
export function tracedFetch(tracing: Tracing, base: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? 'GET';
    const span = tracing.startChild(method, { 'http.request.method': method, 'server.address': url.hostname, 'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)), 'url.path': url.pathname }, SpanKind.CLIENT);
    const send = () => {
      const headers: Record<string, string> = { ...(init?.headers as Record<string, string> | undefined) };
      tracing.inject(headers);
      return base(input, { ...init, headers });
    };
    if (span === undefined) return send();
    return endAfter(span, () => tracing.within(span, send), (done, response) => {
      done.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) done.setStatus({ code: SpanStatusCode.ERROR });
    });
  };
}
