/**
 * What the request body's forward structure scan (`hooks/json-scan.ts`) and the relayed answer's
 * backward usage scan (`bridges/json-tail-scan.ts`) truly have in common: deciding whether a quote
 * is escaped. The rest of the two scans runs in opposite directions over different state and stays
 * in each. Both run on every request: Buffer and plain numbers in, nothing allocated, no closure.
 */

const backslash = 0x5c;

/**
 * How many backslashes run back from just before `quoteIndex`, reading no byte before `floor`.
 * An odd count means the quote is escaped (inside a string); an even one, that it opens or closes one.
 */
export function backslashesBefore(bytes: Buffer, quoteIndex: number, floor: number): number {
  let backslashes = 0;
  for (let index = quoteIndex - 1; index >= floor && bytes[index] === backslash; index -= 1) backslashes += 1;
  return backslashes;
}
