import type { OAuthProfile } from '../oauth-grant.js';

/**
 * Claude Code's OAuth login ("Claude Pro/Max"): the public client id Claude Code ships, its token
 * endpoint, and a JSON body (`{grant_type, refresh_token, client_id}`), as Claude Code sends it.
 * Access tokens live about 8 hours; refreshing 4 hours ahead leaves room for a long upstream
 * outage of the token endpoint before a token actually expires. The refresh token rotates on
 * every refresh, so the new one must be persisted before it is used (see oauth/refresh.ts).
 * Requests with the token need `anthropic-beta: oauth-2025-04-20` (the adapter adds it).
 *
 * Login as Claude Code does it: consent on claude.ai (the Pro/Max account), `code=true`, the
 * scopes below, a loopback redirect `http://localhost:<any port>/callback`, and a JSON code
 * exchange that carries `state` again.
 */
export const anthropicOAuthProfile: OAuthProfile = {
  id: 'anthropic',
  tokenUrl: 'https://console.anthropic.com/v1/oauth/token',
  clientId: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
  bodyFormat: 'json',
  refreshLeadMs: 4 * 60 * 60 * 1000, // 4 h
  login: {
    authorizeUrl: 'https://claude.ai/oauth/authorize',
    scope: 'org:create_api_key user:profile user:inference',
    redirectHost: 'localhost',
    redirectPath: '/callback',
    redirectPort: 0,
    exchangeFormat: 'json',
    exchangeSendsState: true,
    extraAuthorizeParams: { code: 'true' },
  },
};
