import { ArrayMaxSize, ArrayMinSize, IsInt, IsPositive, Max, Min, type ValidationOptions } from 'class-validator';

/** Argument rules shared by every feature, so one rule has one spelling and one message. */

/** Largest id PostgreSQL's `integer` holds. */
export const MAX_ID = 2_147_483_647;

/**
 * Largest price a signal level may name. Every currency pair quotes far below it (the instruments
 * served now top out near 200, GBP_JPY; the highest-quoted pairs brokers commonly list, USD_VND
 * and USD_IDR, sit in the tens of thousands), so 10^6 leaves an order of magnitude of headroom and
 * still refuses a typo of several digits. It also keeps a price exact to its quote: at most 7 digits
 * before the point and 5 after (the finest quote) are 12 significant digits, well inside the 15 a
 * double holds, so a stored price reads back as it was written. The database refuses the same
 * range (migration 2), so a writer that skips this API cannot store what the API cannot serve.
 */
export const MAX_PRICE = 1_000_000;

export function IsId(options: ValidationOptions = {}): PropertyDecorator {
  return (target, property) => {
    IsInt({ message: '$property must be an integer id', ...options })(target, property);
    Min(1, { message: '$property must be a positive id', ...options })(target, property);
    Max(MAX_ID, { message: `$property must be at most ${MAX_ID}`, ...options })(target, property);
  };
}

export function InRange(min: number, max: number): PropertyDecorator {
  return (target, property) => {
    Min(min, { message: `$property must be between ${min} and ${max}` })(target, property);
    Max(max, { message: `$property must be between ${min} and ${max}` })(target, property);
  };
}

/** A price level: above zero, at most MAX_PRICE (validateArgs refuses non-finite numbers in every argument). */
export function IsPrice(): PropertyDecorator {
  return (target, property) => {
    IsPositive({ message: '$property must be a positive price' })(target, property);
    Max(MAX_PRICE, { message: `$property must be at most ${MAX_PRICE}` })(target, property);
  };
}

export function ListSize(min: number, max: number): PropertyDecorator {
  return (target, property) => {
    ArrayMinSize(min, { message: `$property must hold at least ${min} item(s)` })(target, property);
    ArrayMaxSize(max, { message: `$property must hold at most ${max} items` })(target, property);
  };
}
