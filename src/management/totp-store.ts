import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { decryptEnvelope, encryptEnvelope, type CredentialEnvelope } from '../credentials/crypto.js';
import type { Keyring } from '../credentials/keyring.js';
import { withFileLock } from '../files/file-lock.js';
import { writePrivateFile } from '../files/private-file.js';
import { FileReadError, readRegularFile } from '../files/read-file.js';

/**
 * The TOTP secrets of admin keys (`management.totp_file`, 0600 in a 0700 directory). A TOTP secret
 * must be readable to check a code, so it cannot be hashed like a key: each is sealed in the
 * credential store's AES-256-GCM envelope under the keyring's newest key, bound (AAD) to
 * `totp:<key id>`, so a secret copied onto another key id fails to open. A file holding only the
 * envelopes gives nothing without the encryption key.
 *
 * Per key: `active` (the enrolled secret, required for destructive actions) and `pending` (a new
 * enrollment awaiting its first code). Re-enrolling keeps the active secret in force until the new
 * one is confirmed, so a key is never left without its second factor half-way.
 */
const EnvelopeSchema = Type.Object(
  { v: Type.Literal(1), provider: Type.String(), kid: Type.String(), alg: Type.Literal('A256GCM'), iv: Type.String(), ct: Type.String(), tag: Type.String() },
  { additionalProperties: false },
);
const TotpEntrySchema = Type.Object(
  {
    key_id: Type.String({ minLength: 1 }),
    active: Type.Optional(Type.Object({ secret: EnvelopeSchema, confirmed_at: Type.String() }, { additionalProperties: false })),
    pending: Type.Optional(Type.Object({ secret: EnvelopeSchema, created_at: Type.String() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
const TotpFileSchema = Type.Object({ v: Type.Literal(1), entries: Type.Array(TotpEntrySchema) }, { additionalProperties: false });
type TotpFile = Static<typeof TotpFileSchema>;
type TotpEntry = Static<typeof TotpEntrySchema>;

/** The envelope's `provider` field: marks these envelopes as TOTP secrets, not credentials. */
const envelopeKind = 'management-totp';
const maxTotpFileBytes = 1_048_576;

export class TotpStore {
  constructor(
    readonly file: string,
    /** The credential store's keyring, read per call (a rotation swaps it); undefined while encryption is off. */
    private readonly keyring: () => Keyring | undefined,
  ) {}

  /** Whether encryption is available: without it no secret can be stored protected, so enrollment is refused. */
  get available(): boolean {
    return this.keyring() !== undefined;
  }

  /** The active (enrolled) secret of `keyId`, or undefined when the key has none. The caller zero-fills it. */
  async activeSecret(keyId: string): Promise<Buffer | undefined> {
    const entry = (await this.read()).entries.find((candidate) => candidate.key_id === keyId);
    return entry?.active === undefined ? undefined : this.open(entry.active.secret, keyId);
  }

  async pendingSecret(keyId: string): Promise<Buffer | undefined> {
    const entry = (await this.read()).entries.find((candidate) => candidate.key_id === keyId);
    return entry?.pending === undefined ? undefined : this.open(entry.pending.secret, keyId);
  }

  async isEnrolled(keyId: string): Promise<boolean> {
    return (await this.read()).entries.some((entry) => entry.key_id === keyId && entry.active !== undefined);
  }

  /** Stores `secret` as the pending enrollment of `keyId` (replacing an earlier pending one). */
  async setPending(keyId: string, secret: Buffer): Promise<void> {
    const sealed = this.seal(secret, keyId);
    await this.update((entries) => {
      const entry = entries.find((candidate) => candidate.key_id === keyId);
      const pending = { secret: sealed, created_at: new Date().toISOString() };
      if (entry === undefined) entries.push({ key_id: keyId, pending });
      else entry.pending = pending;
    });
  }

  /** The pending secret becomes the active one (after its first code was checked). */
  async activatePending(keyId: string): Promise<void> {
    await this.update((entries) => {
      const entry = entries.find((candidate) => candidate.key_id === keyId);
      if (entry?.pending === undefined) return;
      entry.active = { secret: entry.pending.secret, confirmed_at: new Date().toISOString() };
      delete entry.pending;
    });
  }

  /** Removes every TOTP secret of `keyId` (`management-keys totp-reset`, key revocation). True when there was one. */
  async remove(keyId: string): Promise<boolean> {
    let removed = false;
    await this.update((entries) => {
      const index = entries.findIndex((candidate) => candidate.key_id === keyId);
      if (index !== -1) {
        entries.splice(index, 1);
        removed = true;
      }
    });
    return removed;
  }

  private seal(secret: Buffer, keyId: string): CredentialEnvelope {
    const keyring = this.keyring();
    if (keyring === undefined) throw new Error('TOTP secrets need the credential encryption key (auth.encryption.enabled)');
    return encryptEnvelope(secret, keyring.newest(), { id: `totp:${keyId}`, provider: envelopeKind });
  }

  private open(envelope: CredentialEnvelope, keyId: string): Buffer {
    const keyring = this.keyring();
    if (keyring === undefined) throw new Error('TOTP secrets need the credential encryption key (auth.encryption.enabled)');
    return decryptEnvelope(envelope, (kid) => keyring.keyFor(kid), { id: `totp:${keyId}`, file: this.file });
  }

  private async read(): Promise<TotpFile> {
    let content: Buffer;
    try {
      content = (await readRegularFile(this.file, { maxBytes: maxTotpFileBytes })).content;
    } catch (error) {
      if (error instanceof FileReadError && error.reason === 'missing') return { v: 1, entries: [] };
      throw error;
    }
    const parsed: unknown = JSON.parse(content.toString('utf8'));
    if (!Value.Check(TotpFileSchema, parsed)) throw new Error(`${this.file}: not a TOTP file { "v": 1, "entries": [...] }`);
    return parsed;
  }

  /** Read, change and write under the file's lock (the CLI's totp-reset and the server may both write). */
  private async update(change: (entries: TotpEntry[]) => void): Promise<void> {
    await withFileLock(this.file, async () => {
      const current = await this.read();
      change(current.entries);
      await writePrivateFile(this.file, `${JSON.stringify(current, null, 2)}\n`);
    });
  }
}
