import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * PKCE (RFC 7636) with the S256 method only (`plain` would hand the verifier to anyone who sees
 * the authorize URL), and the `state` value that ties the callback to this login (RFC 6749 §10.12).
 * 32 random bytes each, base64url: 43 characters, within RFC 7636's 43-128.
 */
export interface PkcePair {
  verifier: string;
  challenge: string;
}

export function createPkcePair(): PkcePair {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier, 'ascii').digest('base64url') };
}

export function createState(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison of a received `state` with ours; false for a missing or odd-length one. */
export function stateMatches(expected: string, received: string | null): boolean {
  if (received === null) return false;
  const left = Buffer.from(expected, 'utf8');
  const right = Buffer.from(received, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
