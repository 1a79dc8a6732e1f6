import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';

/**
 * The passphrase encryption of a credential export (`creds export --passphrase-file`): scrypt
 * derives the key, AES-256-GCM seals the JSON. An export holds live tokens, so it is meant to be
 * encrypted whenever it leaves the machine.
 */

/** Passphrases shorter than this are refused: the export holds live tokens. 12 characters. */
export const minimumPassphraseBytes = 12;
/** scrypt cost: N=2^15, r=8 → 32 MiB and ~100 ms per derivation; OWASP's floor for scrypt. */
const scryptParameters = { N: 32_768, r: 8, p: 1 } as const;
const exportAad = Buffer.from('cliproxyapi-export-v1', 'utf8');

/** An export encrypted with a passphrase. */
export interface EncryptedExport {
  v: 1;
  alg: 'scrypt+A256GCM';
  kdf: { name: 'scrypt'; salt: string; N: number; r: number; p: number };
  iv: string;
  ct: string;
  tag: string;
}

function deriveKey(passphrase: Buffer, salt: Buffer, parameters: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...parameters, maxmem: 256 * parameters.N * parameters.r };
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, 32, options, (error, key) => (error === null ? resolve(key) : reject(error)));
  });
}

/** Encrypts an export with scrypt + AES-256-GCM. */
export async function encryptExport(plaintext: Buffer, passphrase: Buffer): Promise<EncryptedExport> {
  if (passphrase.length < minimumPassphraseBytes) throw new Error(`the export passphrase must be at least ${minimumPassphraseBytes} characters`);
  const salt = randomBytes(16);
  const key = await deriveKey(passphrase, salt, scryptParameters);
  try {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(exportAad);
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      v: 1,
      alg: 'scrypt+A256GCM',
      kdf: { name: 'scrypt', salt: salt.toString('base64'), ...scryptParameters },
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  } finally {
    key.fill(0);
  }
}

/** Decrypts an export made by `encryptExport` (for the admin who restores it, and for tests). */
export async function decryptExport(exported: EncryptedExport, passphrase: Buffer): Promise<Buffer> {
  if (exported.v !== 1 || exported.alg !== 'scrypt+A256GCM' || exported.kdf.name !== 'scrypt') throw new Error('not a cliproxyapi encrypted export');
  const { N, r, p } = exported.kdf;
  if (N > 1_048_576 || r > 32 || p > 16) throw new Error('export KDF parameters are out of range');
  const key = await deriveKey(passphrase, Buffer.from(exported.kdf.salt, 'base64'), { N, r, p });
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(exported.iv, 'base64'));
    decipher.setAAD(exportAad);
    decipher.setAuthTag(Buffer.from(exported.tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(exported.ct, 'base64')), decipher.final()]);
    } catch {
      throw new Error('the export could not be decrypted: wrong passphrase, or the file was modified');
    }
  } finally {
    key.fill(0);
  }
}
