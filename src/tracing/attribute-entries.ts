/** An attribute value an entry can be remembered for: not a list or a map. */
export type ScalarValue = string | number | boolean;

/**
 * Attribute entries of an export body, each encoded once: spans repeat the same few (`gateway.cache`
 * HIT, the method, the status), so each key's most recent values keep their encoding, and a
 * repeated attribute costs a lookup. Bounded: 256 keys, 64 values each, strings of up to 256
 * characters (a longer one is encoded every time).
 */
export class AttributeEntries<Encoded> {
  private readonly byKey = new Map<string, Map<ScalarValue, Encoded>>();

  constructor(private readonly encode: (key: string, value: ScalarValue) => Encoded) {}

  of(key: string, value: ScalarValue): Encoded {
    let ofKey = this.byKey.get(key);
    if (ofKey === undefined) {
      if (this.byKey.size >= 256) this.byKey.clear();
      ofKey = new Map();
      this.byKey.set(key, ofKey);
    }
    let entry = ofKey.get(value);
    if (entry === undefined) {
      entry = this.encode(key, value);
      if (typeof value !== 'string' || value.length <= 256) {
        if (ofKey.size >= 64) ofKey.clear();
        ofKey.set(value, entry);
      }
    }
    return entry;
  }
}
