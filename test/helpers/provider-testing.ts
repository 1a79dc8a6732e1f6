import { readFileSync } from 'node:fs';
import type { GatewayError } from '../../src/errors/gateway-error.js';
import type { MapErrorInput } from '../../src/providers/types.js';

/** A recorded upstream error answer: `body` is the JSON the API sent, or a string for HTML/plain text. */
export interface ErrorFixture {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Fixture helpers for one provider folder: `loadFixture(name)` reads `__fixtures__/<name>.json`
 * beside the test, `mapFixture(name)` replays it through the provider's `mapError`.
 */
export function providerErrorFixtures(fixturesDirectory: URL, mapError: (input: MapErrorInput) => GatewayError, provider: string) {
  const loadFixture = (name: string): ErrorFixture =>
    JSON.parse(readFileSync(new URL(`${name}.json`, fixturesDirectory), 'utf8')) as ErrorFixture;
  const mapFixture = (name: string): GatewayError => {
    const fixture = loadFixture(name);
    const bodyText = typeof fixture.body === 'string' ? fixture.body : JSON.stringify(fixture.body);
    return mapError({ provider, status: fixture.status, headers: fixture.headers, bodyText });
  };
  return { loadFixture, mapFixture };
}
