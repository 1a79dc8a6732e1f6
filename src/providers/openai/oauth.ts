import type { OAuthProfile } from '../oauth-grant.js';

/**
 * The Codex CLI's ChatGPT login (`openai-codex`): the public client id the Codex CLI ships, the
 * auth.openai.com token endpoint and a JSON body with `scope: openid profile email`, as codex-rs
 * sends it. The refresh token is single-use (a second use fails with "refresh token was already
 * used"), so persisting the rotated one before use is what keeps the login alive. Access tokens
 * last days; refreshing 1 hour ahead is plenty.
 *
 * Login as codex-rs does it (`codex-rs/login/src/server.rs`): consent on auth.openai.com with
 * `offline_access`, the simplified-flow parameters, and the redirect
 * `http://localhost:1455/auth/callback`: the client is registered for that port only, so the
 * callback server must get it (a busy port is an error, not a random one). Form-encoded exchange.
 */
export const openaiCodexOAuthProfile: OAuthProfile = {
  id: 'openai-codex',
  tokenUrl: 'https://auth.openai.com/oauth/token',
  clientId: 'app_EMoamEEZ73f0CkXaXp7hrann',
  bodyFormat: 'json',
  scope: 'openid profile email',
  refreshLeadMs: 60 * 60 * 1000, // 1 h
  login: {
    authorizeUrl: 'https://auth.openai.com/oauth/authorize',
    scope: 'openid profile email offline_access',
    redirectHost: 'localhost',
    redirectPath: '/auth/callback',
    redirectPort: 1455,
    exchangeFormat: 'form',
    exchangeSendsState: false,
    extraAuthorizeParams: { id_token_add_organizations: 'true', codex_cli_simplified_flow: 'true', originator: 'codex_cli_rs' },
  },
};
