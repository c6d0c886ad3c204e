import pino, { type Logger } from 'pino';

import type { Config } from './config';
import { activeTraceIds } from './tracing/active-trace';

export type { Logger };

/**
 * Structured JSON logs on stdout (or `destination`); secrets in headers never reach them. A line written inside a
 * trace (tracing on) carries its `trace_id` and `span_id`, so that a trace leads to its logs.
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'nodeEnv'>, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    // A new object each time: pino merges the line's own fields into it.
    mixin() {
      const ids = activeTraceIds();
      return ids === undefined ? {} : { trace_id: ids.traceId, span_id: ids.spanId };
    },
    base: { service: 'trading-gateway', env: config.nodeEnv },
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
