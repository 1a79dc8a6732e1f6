import type { ReadonlyProviderConfig } from '../config/schema.js';
import { anthropicOAuthProfile } from './anthropic/oauth.js';
import type { OAuthProfile, OAuthProfileId } from './oauth-grant.js';
import { openaiCodexOAuthProfile } from './openai/oauth.js';

/**
 * The Gemini CLI's Google login: Google's token endpoint with a form body, and the Gemini CLI's
 * installed-app client id. Google requires that client's `client_secret` too; Google documents
 * installed-app secrets as not secret, but this project keeps every secret-looking value out of
 * its source, so the operator sets `providers.<name>.oauth.client_secret` (refresh fails with a
 * message saying so until then). Access tokens live 1 hour: refresh 5 minutes ahead.
 *
 * Login as the Gemini CLI does it (`packages/core/src/code_assist/oauth2.ts`): Google's consent
 * page with the Cloud Code scopes and `access_type=offline` (a refresh token), a loopback redirect
 * `http://127.0.0.1:<any port>/oauth2callback`; the S256 challenge is added (Google accepts PKCE
 * from installed apps). The code exchange needs the client secret as well.
 */
export const googleOAuthProfile: OAuthProfile = {
  id: 'google',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  clientId: '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com',
  bodyFormat: 'form',
  refreshLeadMs: 5 * 60 * 1000, // 5 min
  login: {
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    scope: 'https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile',
    redirectHost: '127.0.0.1',
    redirectPath: '/oauth2callback',
    redirectPort: 0,
    exchangeFormat: 'form',
    exchangeSendsState: false,
    extraAuthorizeParams: { access_type: 'offline' },
  },
};

export const oauthProfiles: Readonly<Record<OAuthProfileId, OAuthProfile>> = {
  anthropic: anthropicOAuthProfile,
  'openai-codex': openaiCodexOAuthProfile,
  google: googleOAuthProfile,
};

/** The login whose tokens a provider type takes by default: Claude Code, Codex, the Gemini CLI's Google login. */
const defaultProfileByType: Readonly<Record<ReadonlyProviderConfig['type'], OAuthProfileId>> = {
  anthropic: 'anthropic',
  openai: 'openai-codex',
  gemini: 'google',
  codex: 'openai-codex',
};

/**
 * The profile a provider's OAuth credentials refresh with: `oauth.profile` when set, else by
 * adapter type (anthropic → Claude Code, openai → Codex, gemini → Google), with each `oauth.*` override applied.
 */
export function oauthProfileFor(provider: ReadonlyProviderConfig): OAuthProfile {
  const settings = provider.oauth;
  const profile = oauthProfiles[settings?.profile ?? defaultProfileByType[provider.type]];
  const base = provider.allow_private_network === true ? { ...profile, allowPrivateNetwork: true } : profile;
  if (settings === undefined) return base;
  const login = {
    ...base.login,
    ...(settings.authorize_url === undefined ? {} : { authorizeUrl: settings.authorize_url }),
    ...(settings.scope === undefined ? {} : { scope: settings.scope }),
    ...(settings.redirect_port === undefined ? {} : { redirectPort: settings.redirect_port }),
  };
  return {
    ...base,
    login,
    ...(settings.token_url === undefined ? {} : { tokenUrl: settings.token_url }),
    ...(settings.client_id === undefined ? {} : { clientId: settings.client_id }),
    ...(settings.client_secret === undefined ? {} : { clientSecret: settings.client_secret }),
    ...(settings.refresh_lead_ms === undefined ? {} : { refreshLeadMs: settings.refresh_lead_ms }),
  };
}
