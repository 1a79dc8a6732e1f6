import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateClientKey } from '../security/client-keys.js';
import { isPlaceholderSecret, isPlaceholderSha256, placeholderSha256Set } from './placeholders.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('isPlaceholderSecret', () => {
  it.each([
    '…',
    '...',
    'your-api-key',
    'YOUR_API_KEY',
    'sk-...',
    'sk-xxx',
    'sk-xxxxxxxxxxxxxxxx',
    'sk-ant-...',
    'changeme',
    'CHANGE-ME',
    'placeholder',
    'xxx…',
    '<your key>',
    'Bearer <token>',
    'YOUR_32_BYTE_ENCRYPTION_KEY_HERE',
    'test',
    'secret',
    'password',
    'your key here',
    'my_key',
    'XXXXXXXXXXXXXXXX',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    '0000000000000000',
    '',
    '   ',
    '  changeme  ',
  ])('refuses %j', (value) => {
    expect(isPlaceholderSecret(value)).toBe(true);
  });

  it.each(['test-upstream-key-0001', 'test-client-key-0001-abcdefghijklmnopqrstuvwxyz', 'mysql-password-rotated-2024'])('accepts %j', (value) => {
    expect(isPlaceholderSecret(value)).toBe(false);
  });

  it('accepts generated client keys', () => {
    for (let index = 0; index < 50; index += 1) expect(isPlaceholderSecret(generateClientKey())).toBe(false);
  });
});

describe('placeholderSha256Set', () => {
  it('holds the digests of the placeholder words, any hex case', () => {
    expect(placeholderSha256Set.has(sha256('changeme'))).toBe(true);
    expect(isPlaceholderSha256(sha256('your-api-key').toUpperCase())).toBe(true);
    expect(isPlaceholderSha256(sha256('YOUR_API_KEY'))).toBe(true);
    expect(isPlaceholderSha256(sha256(''))).toBe(true);
  });

  it('does not hold the digest of a real-looking key', () => {
    expect(isPlaceholderSha256(sha256('test-client-key-0001-abcdefghijklmnopqrstuvwxyz'))).toBe(false);
  });
});
