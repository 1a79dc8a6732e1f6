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
 */
export const googleOAuthProfile: OAuthProfile = {
  id: 'google',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  clientId: '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com',
  bodyFormat: 'form',
  refreshLeadMs: 5 * 60 * 1000, // 5 min
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
  return {
    ...base,
    ...(settings.token_url === undefined ? {} : { tokenUrl: settings.token_url }),
    ...(settings.client_id === undefined ? {} : { clientId: settings.client_id }),
    ...(settings.client_secret === undefined ? {} : { clientSecret: settings.client_secret }),
    ...(settings.refresh_lead_ms === undefined ? {} : { refreshLeadMs: settings.refresh_lead_ms }),
  };
}
