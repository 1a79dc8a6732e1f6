import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, matchTotpStep, otpauthUri, totpCode, totpStep } from './totp.js';

/** RFC 6238 Appendix B (SHA-1 rows) and RFC 4226 Appendix D: the reference vectors. */
const rfcSecret = Buffer.from('12345678901234567890', 'ascii');

describe('TOTP (RFC 6238) with node:crypto', () => {
  it.each([
    [59, '94287082'],
    [1_111_111_109, '07081804'],
    [1_111_111_111, '14050471'],
    [1_234_567_890, '89005924'],
    [2_000_000_000, '69279037'],
    [20_000_000_000, '65353130'],
  ])('at %i s gives %s (8 digits, RFC 6238 Appendix B)', (seconds, expected) => {
    expect(totpCode(rfcSecret, seconds * 1000, 8)).toBe(expected);
  });

  it('HOTP matches RFC 4226 Appendix D', () => {
    expect([0, 1, 2, 9].map((counter) => hotp(rfcSecret, counter))).toEqual(['755224', '287082', '359152', '520489']);
  });

  it('accepts a code one step either side and refuses two steps away', () => {
    const now = 1_700_000_000_000;
    const step = totpStep(now);
    expect(matchTotpStep(rfcSecret, totpCode(rfcSecret, now), now)).toBe(step);
    expect(matchTotpStep(rfcSecret, totpCode(rfcSecret, now - 30_000), now)).toBe(step - 1);
    expect(matchTotpStep(rfcSecret, totpCode(rfcSecret, now + 30_000), now)).toBe(step + 1);
    expect(matchTotpStep(rfcSecret, totpCode(rfcSecret, now - 60_000), now)).toBeUndefined();
    expect(matchTotpStep(rfcSecret, totpCode(rfcSecret, now + 60_000), now)).toBeUndefined();
  });

  it('refuses what is not six digits', () => {
    for (const code of ['', '12345', '1234567', 'abcdef', ' 123456', '12345\n']) expect(matchTotpStep(rfcSecret, code, 0)).toBeUndefined();
  });

  it('base32 round-trips (RFC 4648 vector) and builds the otpauth URI', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Decode('MZXW6YTBOI').toString()).toBe('foobar');
    expect(base32Decode(base32Encode(rfcSecret))).toEqual(rfcSecret);
    expect(otpauthUri(rfcSecret, 'ops')).toBe(`otpauth://totp/cliproxyapi%3Aops?secret=${base32Encode(rfcSecret)}&issuer=cliproxyapi&algorithm=SHA1&digits=6&period=30`);
  });
});
