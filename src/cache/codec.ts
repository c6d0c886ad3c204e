/**
 * Values are stored as JSON. Dates survive the round trip as `{"$date": iso}` so that a cached row
 * is indistinguishable from a fresh one.
 */
export function encode(value: unknown): string {
  return JSON.stringify(value, function replacer(this: Record<string, unknown>, key: string, converted: unknown) {
    const raw = this[key];
    return raw instanceof Date ? { $date: raw.toISOString() } : converted;
  });
}

/** Throws CorruptValueError for anything that is not a value `encode` wrote. */
export function decode(text: string): unknown {
  try {
    return JSON.parse(text, (_key, value: unknown) => {
      if (value !== null && typeof value === 'object' && '$date' in value && Object.keys(value).length === 1) {
        const date = new Date(String(value.$date));
        if (Number.isNaN(date.getTime())) throw new CorruptValueError('invalid date');
        return date;
      }
      return value;
    });
  } catch (error) {
    throw error instanceof CorruptValueError ? error : new CorruptValueError('not JSON', { cause: error });
  }
}

export class CorruptValueError extends Error {
  constructor(detail: string, options: { cause?: unknown } = {}) {
    super(`corrupt cache value: ${detail}`, options);
    this.name = 'CorruptValueError';
  }
}
