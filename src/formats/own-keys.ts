/**
 * True when `record`'s own enumerable keys are exactly `keys`, in that order: the order
 * `JSON.stringify` writes them in. The template writers (formats/gemini/stream-chunk-text.ts,
 * formats/responses/stream-event-text.ts, response-object-text.ts) take their template only for an object of exactly their
 * shape; `for...in` checks it without allocating the array `Object.keys` would, once per streamed
 * chunk. Pure.
 */
export function hasKeysInOrder(record: object, keys: readonly string[]): boolean {
  let index = 0;
  for (const key in record) {
    if (!Object.prototype.hasOwnProperty.call(record, key) || key !== keys[index]) return false;
    index++;
  }
  return index === keys.length;
}

/** The checks the template writers share besides the key order. */
export const isInteger = (value: unknown): value is number => Number.isInteger(value);
export const isEmptyArray = (value: unknown): boolean => Array.isArray(value) && value.length === 0;

/**
 * JSON.stringify, typed as what it returns: undefined for a value without JSON text (undefined, a
 * function, a symbol). What a template writer falls back to for a value of another shape.
 */
export function jsonText(value: unknown): string | undefined {
  return JSON.stringify(value);
}
