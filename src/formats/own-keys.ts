/**
 * True when `record`'s own enumerable keys are exactly `keys`, in that order: the order
 * `JSON.stringify` writes them in. The template writers (formats/gemini/stream-chunk-text.ts,
 * formats/responses/stream-event-text.ts) take their template only for an object of exactly their
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
