import type { OAuthProfile } from '../oauth-grant.js';

/**
 * The Codex CLI's ChatGPT login (`openai-codex`): the public client id the Codex CLI ships, the
 * auth.openai.com token endpoint and a JSON body with `scope: openid profile email`, as codex-rs
 * sends it. The refresh token is single-use (a second use fails with "refresh token was already
 * used"), so persisting the rotated one before use is what keeps the login alive. Access tokens
 * last days; refreshing 1 hour ahead is plenty.
 */
export const openaiCodexOAuthProfile: OAuthProfile = {
  id: 'openai-codex',
  tokenUrl: 'https://auth.openai.com/oauth/token',
  clientId: 'app_EMoamEEZ73f0CkXaXp7hrann',
  bodyFormat: 'json',
  scope: 'openid profile email',
  refreshLeadMs: 60 * 60 * 1000, // 1 h
};
