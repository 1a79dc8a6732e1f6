/**
 * The ChatGPT account id of a Codex login, which the ChatGPT backend wants in `chatgpt-account-id`.
 * Codex CLI reads it from the `id_token`'s `https://api.openai.com/auth` claim
 * (`chatgpt_account_id`); the access token of the same login is a JWT carrying the same claim, so
 * it is read from there and the credential needs no extra field. The token is not verified here:
 * it came from the token endpoint over TLS, and the backend checks it; a token that is not a JWT
 * (an API key, an opaque token) has no account id and the header is left out.
 *
 * The last answer is remembered: one credential's token is used for every request until refreshed.
 */
const authClaim = 'https://api.openai.com/auth';

/** Account ids are UUIDs; anything longer or with other characters is not one. */
const accountIdPattern = /^[A-Za-z0-9-]{1,128}$/;

let lastToken: string | undefined;
let lastAccountId: string | undefined;

export function chatgptAccountIdOf(accessToken: string): string | undefined {
  if (accessToken === lastToken) return lastAccountId;
  lastToken = accessToken;
  lastAccountId = decode(accessToken);
  return lastAccountId;
}

function decode(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined || parts[1].length > 16_384) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    const auth = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>)[authClaim] : undefined;
    const id = typeof auth === 'object' && auth !== null ? (auth as Record<string, unknown>)['chatgpt_account_id'] : undefined;
    return typeof id === 'string' && accountIdPattern.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
