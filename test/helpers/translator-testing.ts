import { GatewayError } from '../../src/errors/gateway-error.js';

/** Runs `action` and returns the GatewayError it throws; fails the test if it throws nothing or something else. */
export function thrown(action: () => unknown): GatewayError {
  try {
    action();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

/**
 * Splits a stream into pieces of repeating odd sizes, so events, lines, JSON and (for bytes)
 * UTF-8 characters break anywhere, as TCP may deliver them.
 */
export function oddPieces<T extends string | Buffer>(whole: T, sizes: number[]): T[] {
  const pieces: T[] = [];
  for (let offset = 0, turn = 0; offset < whole.length; turn++) {
    const size = sizes[turn % sizes.length] ?? 1;
    pieces.push((typeof whole === 'string' ? whole.slice(offset, offset + size) : whole.subarray(offset, offset + size)) as T);
    offset += size;
  }
  return pieces;
}
