import { ArrayMaxSize, ArrayMinSize, IsInt, Max, Min, type ValidationOptions } from 'class-validator';

/** Argument rules shared by every feature, so one rule has one spelling and one message. */

/** Largest id PostgreSQL's `integer` holds. */
export const MAX_ID = 2_147_483_647;

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

export function ListSize(min: number, max: number): PropertyDecorator {
  return (target, property) => {
    ArrayMinSize(min, { message: `$property must hold at least ${min} item(s)` })(target, property);
    ArrayMaxSize(max, { message: `$property must hold at most ${max} items` })(target, property);
  };
}
