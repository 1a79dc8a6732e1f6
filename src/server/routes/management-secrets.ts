import { Type, type TSchema } from '@sinclair/typebox';
import { minimumPassphraseBytes } from '../../credentials/export-encryption.js';
import type { CredentialService } from '../../credentials/credential-service.js';
import { ManagementRefusal } from '../../management/refusal.js';
import { generateTotpSecret, otpauthUri, base32Encode } from '../../management/totp.js';
import { ClientKeyPolicyFields, KeyId } from '../../config/schema.js';
import { ClientKeyError, createClientKey, listClientKeys, revokeClientKey, updateClientKey, type ClientKeyFields } from '../../security/client-keys.js';
import { registerSecrets } from '../../security/redact.js';
import { budgetUseByKey } from '../../usage/usage-query.js';
import { countTotpFailure, endpoint, type ManagementCall, type ManagementEndpoint } from './management-endpoint.js';

/**
 * The endpoints that touch secrets: stored upstream credentials (through the CLI's
 * `createCredentialService`, actor `management:<key id>`), client keys (the functions behind
 * `cliproxyapi keys`) and TOTP enrollment. Everything that removes access or hands out a secret is
 * `admin` and destructive (a fresh TOTP code once the key is enrolled).
 */
const closed = <T extends Parameters<typeof Type.Object>[0]>(properties: T) => Type.Object(properties, { additionalProperties: false });
const CredentialId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' });
/** The passphrase travels in the body: required, so an export never crosses the wire in clear. */
const Passphrase = Type.String({ minLength: minimumPassphraseBytes, maxLength: 1024 });
/** One object (not a union: a union's error cannot name the field); exactly one selector is checked after. */
const ExportBody = closed({
  id: Type.Optional(CredentialId),
  account: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
  all: Type.Optional(Type.Literal(true)),
  passphrase: Passphrase,
});

function exportSelector(body: { id?: string; account?: string; all?: true }): Parameters<CredentialService['export']>[0] {
  const given = [body.id === undefined ? [] : [{ id: body.id }], body.account === undefined ? [] : [{ account: body.account }], body.all === undefined ? [] : [{ all: true as const }]].flat();
  const [selector] = given;
  if (given.length !== 1 || selector === undefined) throw new ManagementRefusal('GW_INVALID_REQUEST', 'Invalid request: id, account, all: give exactly one of them.');
  return selector;
}

/**
 * `PATCH /api-keys/:id`: the governance fields, each also `null` (removes it), absent (unchanged).
 * The same fields as the config and the key file (ClientKeyPolicyFields), so all three accept alike.
 */
const nullable = <Schema extends TSchema>(schema: Schema) => Type.Optional(Type.Union([schema, Type.Null()]));
const KeyUpdateBody = closed({
  models: nullable(ClientKeyPolicyFields.models),
  providers: nullable(ClientKeyPolicyFields.providers),
  expires_at: nullable(ClientKeyPolicyFields.expires_at),
  disabled: nullable(ClientKeyPolicyFields.disabled),
  rate_limit: nullable(ClientKeyPolicyFields.rate_limit),
  max_concurrency: nullable(ClientKeyPolicyFields.max_concurrency),
  concurrency_wait_ms: nullable(ClientKeyPolicyFields.concurrency_wait_ms),
  budgets: nullable(ClientKeyPolicyFields.budgets),
  metadata: nullable(ClientKeyPolicyFields.metadata),
});

function credentialServiceOf(call: ManagementCall<unknown, unknown>): CredentialService {
  const service = call.services.credentials(call.actor);
  if (service === undefined) throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', 'the credential store is off (auth.encryption.enabled: false)');
  return service;
}

/** The service's "no credential" errors are the caller's 404; anything else is a real failure. */
function notFoundAsRefusal(error: unknown): never {
  const message = (error as Error).message;
  if (/^no credentials? /.test(message)) throw new ManagementRefusal('GW_NOT_FOUND', message);
  throw error;
}

export const secretEndpoints: readonly ManagementEndpoint[] = [
  endpoint({
    method: 'GET',
    url: '/credentials',
    role: 'auditor',
    handle: async (call) => {
      const scan = await credentialServiceOf(call).list();
      return { credentials: scan.credentials, unreadable: scan.unreadable.map(({ id, reason }) => ({ id, reason })), plaintext_files: scan.plaintext.length };
    },
  }),
  endpoint({
    method: 'POST',
    url: '/credentials/export',
    role: 'admin',
    destructive: true,
    body: ExportBody,
    handle: async (call) => {
      const selector = exportSelector(call.body);
      const passphraseBytes = Buffer.from(call.body.passphrase, 'utf8');
      try {
        const exported = await credentialServiceOf(call).export(selector, { passphrase: passphraseBytes }).catch(notFoundAsRefusal);
        return { ids: exported.ids, encrypted: true, export: JSON.parse(exported.content.toString('utf8')) as unknown };
      } finally {
        passphraseBytes.fill(0);
      }
    },
  }),
  endpoint({
    method: 'DELETE',
    url: '/credentials/:id',
    role: 'admin',
    destructive: true,
    params: closed({ id: CredentialId }),
    handle: async (call) => {
      // The store's onDeleted listeners (main.ts) take the credential out of the running pools and the refresher.
      const deleted = await credentialServiceOf(call).delete({ id: call.params.id }).catch(notFoundAsRefusal);
      return { deleted };
    },
  }),
  endpoint({
    method: 'GET',
    url: '/api-keys',
    role: 'auditor',
    handle: async ({ runtime, services }) => {
      // Beside each key's budgets: the tokens recorded against it this UTC day and month.
      const use = services.usage === undefined ? undefined : budgetUseByKey(await services.usage(), Date.now());
      return { api_keys: listClientKeys(runtime.loaded).map((key) => (use === undefined ? key : { ...key, budget_use: use.get(key.id) ?? { day: 0, month: 0 } })) };
    },
  }),
  endpoint({
    method: 'POST',
    url: '/api-keys',
    role: 'admin',
    destructive: true,
    body: closed({ id: KeyId, ...ClientKeyPolicyFields }),
    status: 201,
    handle: ({ body, runtime, services, actor }) => {
      const { id, ...fields } = body;
      const created = clientKeyAction(() => createClientKey(runtime.loaded, id, fields as ClientKeyFields));
      services.refreshRuntime();
      services.events.record({ event_type: 'client-key-create', result: 'success', actor, detail: `client key '${created.id}'` });
      // The one answer that carries a secret on purpose: the admin asked for a new key; it is shown once.
      return Promise.resolve({ id: created.id, key: created.key, note: 'shown once; only its hash is stored' });
    },
  }),
  endpoint({
    method: 'PATCH',
    url: '/api-keys/:id',
    role: 'admin',
    // It can widen a key's scope or lift its budget: as sensitive as creating one.
    destructive: true,
    params: closed({ id: KeyId }),
    body: KeyUpdateBody,
    handle: (call) => {
      const { params, body, runtime } = call;
      changeKeyFileEntry(call, { event: 'client-key-update', inConfig: 'change it there', detail: `: ${Object.keys(body).join(', ')}` }, () => updateClientKey(runtime.loaded, params.id, body));
      return Promise.resolve({ api_key: listClientKeys(runtime.loaded).find((key) => key.id === params.id) });
    },
  }),
  endpoint({
    method: 'DELETE',
    url: '/api-keys/:id',
    role: 'admin',
    destructive: true,
    params: closed({ id: KeyId }),
    handle: (call) => {
      const { params, runtime } = call;
      changeKeyFileEntry(call, { event: 'client-key-revoke', inConfig: 'remove it there', detail: '' }, () => revokeClientKey(runtime.loaded, params.id));
      return Promise.resolve({ id: params.id, revoked: true });
    },
  }),
  endpoint({
    method: 'POST',
    url: '/totp/enroll',
    role: 'admin',
    destructive: true,
    status: 201,
    handle: async ({ principal, services, actor }) => {
      if (!services.totpStore.available) throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', 'TOTP secrets are stored encrypted with the credential key; turn on auth.encryption first');
      const secret = generateTotpSecret();
      try {
        await services.totpStore.setPending(principal.id, secret);
        const encoded = base32Encode(secret);
        // Shown once in this answer; masked in anything the gateway writes afterwards.
        registerSecrets([encoded]);
        services.events.record({ event_type: 'management-totp-enroll', result: 'success', actor, detail: 'pending until confirmed' });
        return { secret: encoded, otpauth_uri: otpauthUri(secret, principal.id), next: 'POST /v0/management/totp/confirm {"code":"<6 digits>"}' };
      } finally {
        secret.fill(0);
      }
    },
  }),
  endpoint({
    method: 'POST',
    url: '/totp/confirm',
    role: 'admin',
    body: closed({ code: Type.String({ pattern: '^[0-9]{6}$' }) }),
    handle: async (call) => {
      const { principal, services, actor } = call;
      const pending = await services.totpStore.pendingSecret(principal.id);
      if (pending === undefined) throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', 'no TOTP enrollment is pending for this key; POST /v0/management/totp/enroll first');
      try {
        const verdict = await services.totpGuard.check(principal.id, pending, call.body.code);
        if (verdict !== 'accepted') await countTotpFailure(call.request, principal.id, { runtime: () => call.runtime, services }, verdict);
      } finally {
        pending.fill(0);
      }
      await services.totpStore.activatePending(principal.id);
      services.events.record({ event_type: 'management-totp-enroll', result: 'success', actor, detail: 'confirmed: destructive actions now need a TOTP code' });
      return { totp_enrolled: true };
    },
  }),
];

/**
 * A change to one existing entry of the key file (PATCH, DELETE `/api-keys/:id`): 404 for an
 * unknown id, 409 for a key of `auth.api_keys` (the config is the operator's, never rewritten
 * here), else the running keys are refreshed at once and the change is recorded. One place, so the
 * two cannot drift apart on what follows a change.
 */
function changeKeyFileEntry(
  { params, services, actor }: ManagementCall<unknown, { id: string }>,
  change: { event: 'client-key-update' | 'client-key-revoke'; inConfig: string; detail: string },
  apply: () => 'updated' | 'revoked' | 'in-config' | 'not-found',
): void {
  const outcome = clientKeyAction(apply);
  if (outcome === 'not-found') throw new ManagementRefusal('GW_NOT_FOUND', `no client key '${params.id}'`);
  if (outcome === 'in-config') throw new ManagementRefusal('GW_MANAGEMENT_CONFLICT', `client key '${params.id}' is defined in the config file under auth.api_keys; ${change.inConfig}`);
  services.refreshRuntime();
  services.events.record({ event_type: change.event, result: 'success', actor, detail: `client key '${params.id}'${change.detail}` });
}

/** The key store's refusals (duplicate or bad id) as the caller's 400/409, with their message. */
function clientKeyAction<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (!(error instanceof ClientKeyError)) throw error;
    throw new ManagementRefusal(error.code === 'CLIENT_KEY_DUPLICATE_ID' ? 'GW_MANAGEMENT_CONFLICT' : 'GW_INVALID_REQUEST', error.message);
  }
}
