import type { OAuthCredential, UpstreamCredential } from '../providers/types.js';

/** What the request path needs from the refresher (CredentialRefresher implements it). */
export interface UpstreamCredentialHooks {
  ensureFresh(credential: UpstreamCredential): Promise<UpstreamCredential>;
  refreshAfterRejection(id: string, rejectedAccessToken: string): Promise<OAuthCredential | undefined>;
}

/**
 * One upstream attempt with a credential kept fresh: `ensureFresh` first (it may wait for the
 * single-flight refresh, or throw the retryable refresh error that makes failover move on), then
 * `send`. An upstream 401 on an OAuth credential means the token was revoked or expired early:
 * the 401 body is discarded, the credential refreshed once, and the request sent once more. A
 * second 401 is returned to the caller (its mapError makes it an auth failure and the pool cools
 * the credential). The rejected token is captured before sending, because the credential object
 * is refreshed in place and may already hold a newer token when the 401 arrives.
 */
export function sendWithFreshCredential<Response extends { statusCode: number }>(
  hooks: UpstreamCredentialHooks | undefined,
  credential: UpstreamCredential,
  send: (credential: UpstreamCredential) => Promise<Response>,
  discard: (response: Response) => Promise<void>,
): Promise<Response> {
  // API keys need no refresh and get no 401 retry: the send's own promise, with no async wrapper
  // (its promise and jobs) around it on the hot path.
  if (hooks === undefined || credential.kind !== 'oauth') return send(credential);
  return sendRefreshing(hooks, credential, send, discard);
}

async function sendRefreshing<Response extends { statusCode: number }>(
  hooks: UpstreamCredentialHooks,
  credential: UpstreamCredential,
  send: (credential: UpstreamCredential) => Promise<Response>,
  discard: (response: Response) => Promise<void>,
): Promise<Response> {
  const fresh = await hooks.ensureFresh(credential);
  const usedToken = fresh.kind === 'oauth' ? fresh.accessToken : undefined;
  const response = await send(fresh);
  if (response.statusCode !== 401 || usedToken === undefined) return response;
  await discard(response);
  const renewed = await hooks.refreshAfterRejection(fresh.id, usedToken);
  if (renewed === undefined) return send(fresh);
  return send(renewed);
}
