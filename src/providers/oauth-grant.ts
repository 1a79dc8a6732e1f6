/**
 * The OAuth 2.0 `refresh_token` grant (RFC 6749 §6), as pure functions: build the token request,
 * parse the answer. The HTTP call itself lives in oauth/refresh-http.ts; providers stay free
 * of I/O. Each provider's quirks (JSON or form body, client secret, scope) are data in an
 * `OAuthProfile` (anthropic/oauth.ts, openai/oauth.ts, oauth-profiles.ts).
 */
export type OAuthBodyFormat = 'json' | 'form';

/** What a provider's token endpoint expects; every field but `id` is overridable in config. */
export interface OAuthProfile {
  /** `anthropic` (Claude Code login), `openai-codex` (Codex CLI login), `google` (Gemini CLI login). */
  readonly id: OAuthProfileId;
  readonly tokenUrl: string;
  readonly clientId: string;
  /** Only for clients that need one (Google installed apps); never a default in code. */
  readonly clientSecret?: string;
  readonly bodyFormat: OAuthBodyFormat;
  /** Sent as `scope` when set (Codex CLI sends `openid profile email`). */
  readonly scope?: string;
  /** Milliseconds before expiry the background scheduler refreshes. */
  readonly refreshLeadMs: number;
  /** The provider's `allow_private_network`: the token call may go to a non-public address (egress guard). */
  readonly allowPrivateNetwork?: boolean;
  /** How `cliproxyapi login` obtains the first tokens (oauth-authorize.ts). */
  readonly login: OAuthLogin;
}

export type OAuthProfileId = 'anthropic' | 'openai-codex' | 'google';

export interface TokenRequest {
  url: string;
  headers: Record<string, string>;
  /** A Buffer holding the refresh token: the caller zero-fills it once the request is sent. */
  body: Buffer;
  /** Skip the egress guard for this call (the provider's `allow_private_network`). */
  allowPrivateNetwork?: boolean;
}

/** How `cliproxyapi login` obtains the first tokens: the authorization-code grant (oauth-authorize.ts). */
export interface OAuthLogin {
  /** Where the user consents (opened in a browser; never fetched by the proxy). */
  readonly authorizeUrl: string;
  /** Space-separated scopes, as the official CLI asks for them. */
  readonly scope: string;
  /**
   * The redirect URI's host as the official CLI writes it (`localhost` or `127.0.0.1`): the
   * authorization server compares it with the client's registration. The callback server itself
   * always binds 127.0.0.1.
   */
  readonly redirectHost: 'localhost' | '127.0.0.1';
  readonly redirectPath: string;
  /**
   * The port registered for the client, when the provider only accepts that one (Codex: 1455);
   * 0 = any free port (loopback redirect URIs may use any port, RFC 8252 §7.3).
   */
  readonly redirectPort: number;
  /** Body of the code exchange: Codex and Google take a form, Claude JSON. */
  readonly exchangeFormat: OAuthBodyFormat;
  /** Claude's token endpoint wants `state` again in the exchange body. */
  readonly exchangeSendsState: boolean;
  /** Extra authorize parameters the official CLI sends (Codex's simplified flow, Google's offline access). */
  readonly extraAuthorizeParams: Readonly<Record<string, string>>;
}

/** A successful grant. Token strings are unavoidable here (JSON.parse yields strings); see refresh.ts. */
export interface TokenGrant {
  accessToken: string;
  /** Present when the provider rotated the refresh token: the old one may be dead already. */
  refreshToken: string | undefined;
  idToken: string | undefined;
  /** Epoch milliseconds; undefined when the answer had no `expires_in`. */
  expiresAt: number | undefined;
}

/** A failed grant, described without any token or body text. */
export interface TokenGrantFailure {
  status: number;
  /** The OAuth `error` code (`invalid_grant`, …) when the body had a well-formed one. */
  oauthError: string | undefined;
  /** True when a retry cannot help (the refresh token or client is rejected): 400/401/403. */
  permanent: boolean;
}

export function buildRefreshRequest(profile: OAuthProfile, refreshToken: string): TokenRequest {
  const fields: Record<string, string> = { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: profile.clientId };
  if (profile.clientSecret !== undefined) fields.client_secret = profile.clientSecret;
  if (profile.scope !== undefined) fields.scope = profile.scope;
  const body =
    profile.bodyFormat === 'json' ? Buffer.from(JSON.stringify(fields), 'utf8') : Buffer.from(new URLSearchParams(fields).toString(), 'utf8');
  return {
    url: profile.tokenUrl,
    headers: {
      'content-type': profile.bodyFormat === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body,
    ...(profile.allowPrivateNetwork === true ? { allowPrivateNetwork: true } : {}),
  };
}

const oauthErrorPattern = /^[a-z_]{1,64}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Parses a token endpoint answer. Lenient outward: only `access_token` is required. `expires_in`
 * is seconds (RFC 6749); a value that is not a positive finite number is ignored.
 */
export function parseTokenResponse(status: number, bodyText: string, now: number): TokenGrant | TokenGrantFailure {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    parsed = undefined;
  }
  if (status < 200 || status >= 300 || !isRecord(parsed) || optionalString(parsed.access_token) === undefined) {
    const code = isRecord(parsed) && typeof parsed.error === 'string' && oauthErrorPattern.test(parsed.error) ? parsed.error : undefined;
    return { status, oauthError: code, permanent: status === 400 || status === 401 || status === 403 };
  }
  const expiresIn = parsed.expires_in;
  const seconds = typeof expiresIn === 'number' ? expiresIn : typeof expiresIn === 'string' ? Number(expiresIn) : Number.NaN;
  return {
    accessToken: parsed.access_token as string,
    refreshToken: optionalString(parsed.refresh_token),
    idToken: optionalString(parsed.id_token),
    expiresAt: Number.isFinite(seconds) && seconds > 0 ? now + seconds * 1000 : undefined,
  };
}

export function isTokenGrant(value: TokenGrant | TokenGrantFailure): value is TokenGrant {
  return 'accessToken' in value;
}
