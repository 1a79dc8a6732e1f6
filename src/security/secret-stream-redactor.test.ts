import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { clearRegisteredSecrets, registerSecrets } from './redact.js';
import { createSecretStreamRedactor, redactRegisteredSecrets, type SecretStreamRedactor } from './secret-stream-redactor.js';

const canary = (): string => `canary-${randomBytes(12).toString('hex')}`;

/** Pushes `text` cut at `cuts` (byte offsets) and returns everything the redactor let out, in order. */
function relay(redactor: SecretStreamRedactor, bytes: Buffer, cuts: number[]): { output: string; pieces: Buffer[] } {
  const pieces: Buffer[] = [];
  let previous = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(redactor.push(bytes.subarray(previous, cut)));
    previous = cut;
  }
  pieces.push(redactor.flush());
  return { output: Buffer.concat(pieces).toString('utf8'), pieces };
}

function randomCuts(length: number, count: number): number[] {
  const cuts = new Set<number>();
  while (cuts.size < Math.min(count, length - 1)) cuts.add(1 + Math.floor(Math.random() * (length - 1)));
  return [...cuts].sort((left, right) => left - right);
}

describe('secret stream redactor', () => {
  afterEach(() => clearRegisteredSecrets());

  it('costs nothing when no secret is registered', () => {
    expect(createSecretStreamRedactor()).toBeUndefined();
    const body = Buffer.from('{"ok":true}');
    expect(redactRegisteredSecrets(body)).toBe(body);
  });

  it('returns the very same piece when it holds no secret and ends outside one', () => {
    registerSecrets([canary()]);
    const redactor = createSecretStreamRedactor()!;
    const piece = Buffer.from('data: {"choices":[{"delta":{"content":"hello"}}]}\n\n');
    expect(redactor.push(piece)).toBe(piece);
  });

  it('masks a secret echoed in an error event', () => {
    const secret = canary();
    registerSecrets([secret]);
    const event = `data: {"error":{"message":"Incorrect API key provided: ${secret}"}}\n\n`;
    const { output } = relay(createSecretStreamRedactor()!, Buffer.from(event), []);
    expect(output).toBe('data: {"error":{"message":"Incorrect API key provided: ***"}}\n\n');
  });

  it('masks a secret cut across pieces at every possible place, and holds nothing once a line ends', () => {
    const secret = canary();
    registerSecrets([secret]);
    const event = Buffer.from(`data: {"message":"key ${secret} rejected"}\n\n`);
    const secretStart = event.indexOf(secret);
    for (let cut = secretStart; cut <= secretStart + secret.length; cut++) {
      const { output, pieces } = relay(createSecretStreamRedactor()!, event, [cut]);
      expect(output).toBe('data: {"message":"key *** rejected"}\n\n');
      expect(output).not.toContain(secret.slice(0, 10));
      // The second piece ends in '\n': everything is out before flush.
      expect(pieces.at(-1)?.length).toBe(0);
    }
  });

  it('masks secrets under random splits, longer secrets whole, multi-byte text intact', () => {
    const short = canary();
    const long = `${short}-and-more`;
    const unicode = `schlüssel-${randomBytes(6).toString('hex')}`;
    registerSecrets([short, long, unicode]);
    const text = `é ${long} x ${short}${short} y ${unicode} ${short.slice(0, 12)} end ${short}`;
    const expected = `é *** x ****** y *** ${short.slice(0, 12)} end ***`;
    const bytes = Buffer.from(text, 'utf8');
    for (let round = 0; round < 300; round++) {
      const cuts = randomCuts(bytes.length, 1 + (round % 40));
      expect(relay(createSecretStreamRedactor()!, bytes, cuts).output).toBe(expected);
    }
  });

  it('holds a tail that could start a secret only until it is decided', () => {
    const secret = canary();
    registerSecrets([secret]);
    const redactor = createSecretStreamRedactor()!;
    expect(redactor.push(Buffer.from(`data: ${secret.slice(0, 9)}`)).toString()).toBe('data: ');
    expect(redactor.push(Buffer.from('!\n')).toString()).toBe(`${secret.slice(0, 9)}!\n`);
  });

  it('masks a whole non-streamed body', () => {
    const secret = canary();
    registerSecrets([secret]);
    expect(redactRegisteredSecrets(Buffer.from(`{"a":"${secret}","b":"${secret}"}`)).toString()).toBe('{"a":"***","b":"***"}');
  });

  it('sees secrets registered after an earlier stream started (a reload)', () => {
    registerSecrets([canary()]);
    createSecretStreamRedactor();
    const later = canary();
    registerSecrets([later]);
    expect(relay(createSecretStreamRedactor()!, Buffer.from(`x ${later}\n`), []).output).toBe('x ***\n');
  });
});
