import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalog } from './codes.js';
import { GatewayError } from './gateway-error.js';

/** docs/errors.md and the catalog must agree both ways (fastify's errors test does the same). */
const documentation = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documentedRows = [...documentation.matchAll(/^\|\s*`(GW_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((match) => ({
  code: match[1]!,
  status: Number(match[2]),
}));

describe('error catalog', () => {
  it('documents every code with its status', () => {
    for (const [code, entry] of Object.entries(errorCatalog)) {
      expect(documentedRows, `docs/errors.md lacks ${code}`).toContainEqual({ code, status: entry.status });
    }
  });

  it('documents no code that does not exist', () => {
    for (const row of documentedRows) expect(Object.keys(errorCatalog)).toContain(row.code);
  });

  it('lists each code once in the docs', () => {
    const codes = documentedRows.map((row) => row.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('builds errors with the catalog status and message', () => {
    const error = new GatewayError('GW_MODEL_NOT_FOUND');
    expect(error.status).toBe(404);
    expect(error.message).toBe(errorCatalog.GW_MODEL_NOT_FOUND.message);
    expect(new GatewayError('GW_UPSTREAM_BAD_REQUEST', { status: 422 }).status).toBe(422);
  });
});
