import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * TOTP (RFC 6238) over HOTP (RFC 4226), with node:crypto alone: HMAC-SHA-1, 6 digits, 30-second
 * steps, the parameters every authenticator app (Google Authenticator, 1Password, Aegis, …)
 * assumes when an otpauth URI names none. SHA-1 is fine here: HOTP needs only HMAC's PRF property,
 * which SHA-1's collision attacks do not touch (RFC 4226 §B.2).
 *
 * Clock skew: a code is accepted for its own step and one step either side (±30 s, `skewSteps`),
 * RFC 6238 §5.2's recommended "at most one time step" of network delay and clock drift.
 */
export const totpStepSeconds = 30;
export const totpDigits = 6;
export const skewSteps = 1;
/** 160-bit secrets: the HMAC-SHA-1 block-size key RFC 4226 §4 recommends (R6). */
export const totpSecretBytes = 20;

export function generateTotpSecret(): Buffer {
  return randomBytes(totpSecretBytes);
}

/** The time step of `epochMs`. */
export function totpStep(epochMs: number): number {
  return Math.floor(epochMs / 1000 / totpStepSeconds);
}

/** HOTP(secret, counter) with `digits` digits (RFC 4226 §5.3 dynamic truncation). */
export function hotp(secret: Buffer, counter: number, digits: number = totpDigits): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = createHmac('sha1', secret).update(message).digest();
  const offset = digest[digest.length - 1]! & 0x0f;
  const binary = ((digest[offset]! & 0x7f) << 24) | (digest[offset + 1]! << 16) | (digest[offset + 2]! << 8) | digest[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The code an authenticator shows at `epochMs`. */
export function totpCode(secret: Buffer, epochMs: number, digits: number = totpDigits): string {
  return hotp(secret, totpStep(epochMs), digits);
}

/**
 * The step `code` belongs to within ±`skewSteps` of now, or undefined. Every candidate step is
 * computed and compared in constant time without stopping early, so the time taken says nothing
 * about which step (if any) matched. Replay is the caller's: it refuses a step at or below the
 * last one accepted for the key (totp-guard.ts).
 */
export function matchTotpStep(secret: Buffer, code: string, epochMs: number): number | undefined {
  if (!/^[0-9]{6}$/.test(code)) return undefined;
  const presented = Buffer.from(code, 'utf8');
  const now = totpStep(epochMs);
  let matched: number | undefined;
  for (let step = now - skewSteps; step <= now + skewSteps; step += 1) {
    if (timingSafeEqual(Buffer.from(hotp(secret, step), 'utf8'), presented) && matched === undefined) matched = step;
  }
  return matched;
}

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding: how authenticator apps take a secret typed in or in an otpauth URI. */
export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let output = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) output += base32Alphabet[(value << (5 - bits)) & 31];
  return output;
}

export function base32Decode(text: string): Buffer {
  const clean = text.replace(/=+$/, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const character of clean) {
    const index = base32Alphabet.indexOf(character);
    if (index === -1) throw new Error('not base32');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The otpauth URI an authenticator app scans (Key Uri Format): issuer `cliproxyapi`, label the key id. */
export function otpauthUri(secret: Buffer, keyId: string): string {
  const label = encodeURIComponent(`cliproxyapi:${keyId}`);
  return `otpauth://totp/${label}?secret=${base32Encode(secret)}&issuer=cliproxyapi&algorithm=SHA1&digits=${totpDigits}&period=${totpStepSeconds}`;
}
