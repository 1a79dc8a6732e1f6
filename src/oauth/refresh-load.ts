import type { UpstreamCredential } from '../providers/types.js';
import { redactText, registerSecrets } from '../security/redact.js';
import type { CredentialRefresher } from './refresh.js';
import type { RefreshLogger } from './refresh-types.js';
import type { CredentialStore } from '../credentials/types.js';

/**
 * Reads every stored credential for the providers' pools: OAuth ones are tracked by the
 * refresher (which returns the one credential object it keeps fresh), API keys pass as they are.
 * A file that cannot be read (tampered, renamed, wrong key) is logged by id and skipped, so the
 * gateway keeps serving with the others. Returned by provider name; ids are the file ids.
 */
export async function loadStoredCredentials(
  store: CredentialStore,
  refresher: CredentialRefresher,
  logger: RefreshLogger,
): Promise<Map<string, UpstreamCredential[]>> {
  const byProvider = new Map<string, UpstreamCredential[]>();
  for (const listing of await store.list()) {
    let credential: UpstreamCredential;
    try {
      const record = await store.read(listing.id);
      if (record.kind === 'oauth') {
        credential = refresher.track(record);
      } else if (record.api_key !== undefined) {
        registerSecrets([record.api_key]);
        credential = { id: record.id, provider: record.provider, priority: record.priority ?? 0, kind: 'api_key', apiKey: record.api_key };
      } else {
        continue;
      }
    } catch (error) {
      logger.warn(
        { event: 'credential-load-fail', credential_id: listing.id, provider: listing.provider, detail: redactText(error instanceof Error ? error.message : String(error)) },
        'stored credential skipped',
      );
      continue;
    }
    const list = byProvider.get(credential.provider) ?? [];
    list.push(credential);
    byProvider.set(credential.provider, list);
  }
  return byProvider;
}
