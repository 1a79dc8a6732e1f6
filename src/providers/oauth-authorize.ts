import type { OAuthLogin, OAuthProfile, TokenRequest } from './oauth-grant.js';

/**
 * The authorization-code grant with PKCE (RFC 6749 §4.1, RFC 7636 S256), as pure functions: the
 * URL the user opens, and the code exchange. The loopback callback server, the browser and the
 * HTTP call live in src/login/; each provider's values are data in its `OAuthLogin` (as the
 * official CLI sends them, oauth-grant.ts), overridable under `providers.<name>.oauth.*`.
 */
export interface AuthorizeUrlInput {
  redirectUri: string;
  state: string;
  codeChallenge: string;
}

/** The URL the user opens: the profile's authorize endpoint with the PKCE S256 challenge and `state`. */
export function buildAuthorizeUrl(profile: OAuthProfile, login: OAuthLogin, input: AuthorizeUrlInput): string {
  const url = new URL(login.authorizeUrl);
  const fields: Record<string, string> = {
    ...login.extraAuthorizeParams,
    response_type: 'code',
    client_id: profile.clientId,
    redirect_uri: input.redirectUri,
    scope: login.scope,
    code_challenge: input.codeChallenge,
    code_challenge_method: 'S256',
    state: input.state,
  };
  for (const [name, value] of Object.entries(fields)) url.searchParams.set(name, value);
  return url.toString();
}

export interface CodeExchangeInput {
  code: string;
  codeVerifier: string;
  redirectUri: string;
  state: string;
}

/** The token request that trades the authorization code (and the PKCE verifier) for tokens. */
export function buildCodeExchangeRequest(profile: OAuthProfile, login: OAuthLogin, input: CodeExchangeInput): TokenRequest {
  const fields: Record<string, string> = {
    grant_type: 'authorization_code',
    code: input.code,
    redirect_uri: input.redirectUri,
    client_id: profile.clientId,
    code_verifier: input.codeVerifier,
  };
  if (profile.clientSecret !== undefined) fields.client_secret = profile.clientSecret;
  if (login.exchangeSendsState) fields.state = input.state;
  const json = login.exchangeFormat === 'json';
  return {
    url: profile.tokenUrl,
    headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: Buffer.from(json ? JSON.stringify(fields) : new URLSearchParams(fields).toString(), 'utf8'),
    ...(profile.allowPrivateNetwork === true ? { allowPrivateNetwork: true } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Claims of a JWT's payload, NOT verified: used only to label the credential, never to trust it. */
function unverifiedClaims(jwt: string | undefined): Record<string, unknown> {
  const payload = jwt?.split('.')[1];
  if (payload === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

const emailPattern = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const accountIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** Who logged in, for the record's `email` and the credential id: never a token. */
export interface LoginAccount {
  email: string | undefined;
  /** Codex: the ChatGPT account id (the `chatgpt_account_id` claim), which its backend wants as a header. */
  accountId: string | undefined;
}

/**
 * The account of a token answer: Claude's `account.email_address`, else the ID token's `email`
 * claim (Codex; Google when asked for `openid`), and Codex's `chatgpt_account_id`. Values that do
 * not look like an email or an id are dropped rather than stored.
 */
export function loginAccountOf(bodyText: string, idToken: string | undefined): LoginAccount {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  const account = isRecord(body) && isRecord(body.account) ? body.account : {};
  const claims = unverifiedClaims(idToken);
  const openaiAuth = isRecord(claims['https://api.openai.com/auth']) ? claims['https://api.openai.com/auth'] : {};
  const email = [account.email_address, claims.email].find((value): value is string => typeof value === 'string' && emailPattern.test(value));
  const accountId = openaiAuth.chatgpt_account_id;
  return { email, accountId: typeof accountId === 'string' && accountIdPattern.test(accountId) ? accountId : undefined };
}
