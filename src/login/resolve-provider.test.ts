import { describe, expect, it } from 'vitest';
import type { ReadonlyConfig } from '../config/schema.js';
import { resolveLoginProvider } from './login-flow.js';
import { LoginError } from './login-error.js';

/** Only `providers` is read: each provider's type and `oauth` decide which login it refreshes with. */
const configWith = (providers: Record<string, { type: string; oauth?: Record<string, unknown> }>): ReadonlyConfig => ({ providers }) as unknown as ReadonlyConfig;

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LoginError);
    expect((error as LoginError).code).toBe('LOGIN_PROVIDER_UNKNOWN');
    return (error as LoginError).message;
  }
  throw new Error('expected a refusal');
}

describe('resolveLoginProvider', () => {
  it('codex picks the one type: codex provider when OpenAI-type providers share its login', () => {
    const config = configWith({ openai: { type: 'openai' }, local: { type: 'openai' }, chatgpt: { type: 'codex' } });
    expect(resolveLoginProvider(config, 'codex', undefined).name).toBe('chatgpt');
    expect(resolveLoginProvider(config, 'codex', 'local').name).toBe('local');
  });

  it('refuses to guess between two codex providers, or between OpenAI providers with none of type codex, naming them', () => {
    expect(refusal(() => resolveLoginProvider(configWith({ first: { type: 'codex' }, second: { type: 'codex' }, openai: { type: 'openai' } }), 'codex', undefined))).toMatch(
      /several providers .*\(first, second, openai\) and 2 of them have type: codex; pass --provider NAME/,
    );
    expect(refusal(() => resolveLoginProvider(configWith({ openai: { type: 'openai' }, local: { type: 'openai' } }), 'codex', undefined))).toMatch(/none of them has type: codex/);
  });

  it('a single provider of the login is used whatever its type; none is refused with what to add', () => {
    expect(resolveLoginProvider(configWith({ openai: { type: 'openai' }, claude: { type: 'anthropic' } }), 'codex', undefined).name).toBe('openai');
    expect(refusal(() => resolveLoginProvider(configWith({ claude: { type: 'anthropic' } }), 'codex', undefined))).toContain('type: codex');
    expect(refusal(() => resolveLoginProvider(configWith({ claude: { type: 'anthropic' } }), 'codex', 'claude'))).toContain("refreshes with the 'anthropic' login");
  });
});
