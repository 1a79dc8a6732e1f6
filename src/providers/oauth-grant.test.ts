import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../config/schema.js';
import { buildRefreshRequest, isTokenGrant, parseTokenResponse } from './oauth-grant.js';
import { googleOAuthProfile, oauthProfileFor } from './oauth-profiles.js';
import { openaiCodexOAuthProfile } from './openai/oauth.js';

const provider = (overrides: Partial<ProviderConfig>): ProviderConfig => ({ type: 'anthropic', base_url: 'https://api.anthropic.com', api_keys: [], models: [], ...overrides });

describe('refresh_token grant', () => {
  it('Codex: JSON body with its client id and scope', () => {
    const request = buildRefreshRequest(openaiCodexOAuthProfile, 'test-refresh-token-0001');
    expect(request.url).toBe('https://auth.openai.com/oauth/token');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body.toString('utf8'))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'test-refresh-token-0001',
      client_id: openaiCodexOAuthProfile.clientId,
      scope: 'openid profile email',
    });
  });

  it('Google: form body with the configured client secret', () => {
    const request = buildRefreshRequest({ ...googleOAuthProfile, clientSecret: 'test-client-secret-0001' }, 'test-refresh-token-0001');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(request.body.toString('utf8'));
    expect(form.get('grant_type')).toBe('refresh_token');
    expect(form.get('refresh_token')).toBe('test-refresh-token-0001');
    expect(form.get('client_id')).toBe(googleOAuthProfile.clientId);
    expect(form.get('client_secret')).toBe('test-client-secret-0001');
  });

  it('parses a grant: expires_in seconds become epoch milliseconds; a missing refresh_token means no rotation', () => {
    const grant = parseTokenResponse(200, '{"access_token":"test-access-0001","expires_in":3600,"token_type":"Bearer"}', 1_000);
    expect(isTokenGrant(grant) && grant).toEqual({ accessToken: 'test-access-0001', refreshToken: undefined, idToken: undefined, expiresAt: 1_000 + 3_600_000 });
  });

  it('a failure keeps only the status and a well-formed OAuth error code, never body text', () => {
    expect(parseTokenResponse(400, '{"error":"invalid_grant","error_description":"token test-refresh-0001 revoked"}', 0)).toEqual({
      status: 400,
      oauthError: 'invalid_grant',
      permanent: true,
    });
    expect(parseTokenResponse(400, '{"error":"<script>"}', 0)).toEqual({ status: 400, oauthError: undefined, permanent: true });
    expect(parseTokenResponse(503, 'upstream down', 0)).toEqual({ status: 503, oauthError: undefined, permanent: false });
    expect(parseTokenResponse(200, '{"token_type":"Bearer"}', 0)).toMatchObject({ status: 200, permanent: false });
  });
});

describe('oauthProfileFor', () => {
  it('defaults by adapter type and applies config overrides', () => {
    expect(oauthProfileFor(provider({})).id).toBe('anthropic');
    expect(oauthProfileFor(provider({ type: 'openai' })).id).toBe('openai-codex');
    const overridden = oauthProfileFor(provider({ oauth: { profile: 'google', token_url: 'http://127.0.0.1:9/token', refresh_lead_ms: 1_000 } }));
    expect(overridden).toMatchObject({ id: 'google', tokenUrl: 'http://127.0.0.1:9/token', refreshLeadMs: 1_000, bodyFormat: 'form' });
  });
});
