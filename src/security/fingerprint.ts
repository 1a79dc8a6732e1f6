import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { hostname as osHostname, networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { createPrivateFileExclusiveSync } from '../files/private-file.js';
import { FileReadError, readRegularFileSync } from '../files/read-file.js';

/**
 * The device fingerprint sent upstream as `X-Device-Fingerprint` (only to providers with
 * `device_fingerprint: true`). SHA-256 over the first up, non-loopback interface's MAC, the host
 * name and a random per-install salt:
 * - the salt (32 random bytes, stored 0600) makes the value impossible to reverse to the MAC by
 *   trying the few million MACs of a vendor prefix, and different per install on one machine;
 * - it is computed ONCE and persisted: a container gets a new MAC and host name on every start,
 *   and the upstream must keep seeing the same device;
 * - no usable MAC (containers without a network, some VMs) → a stored random id instead.
 * The file is `fingerprint.json` beside `auth.dir` (the data dir), created exclusively (link,
 * not rename) so two processes starting at once agree on one value.
 */
export interface FingerprintFile {
  v: 1;
  /** Base64 of 32 random bytes. Secret: never logged or sent. */
  salt: string;
  /** Hex SHA-256: the value sent upstream. */
  fingerprint: string;
  source: 'mac' | 'random';
  created_at: string;
}

export interface DeviceFingerprint {
  value: string;
  source: 'mac' | 'random';
  path: string;
  /** True when this call created the file. */
  created: boolean;
}

/** The machine facts, injectable so tests need no real network interfaces. */
export interface FingerprintEnvironment {
  networkInterfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  hostname: () => string;
  randomBytes: (size: number) => Buffer;
  now: () => number;
}

const systemEnvironment: FingerprintEnvironment = {
  networkInterfaces: osNetworkInterfaces,
  hostname: osHostname,
  randomBytes: cryptoRandomBytes,
  now: Date.now,
};

/** `<data dir>/fingerprint.json`, the data dir being the parent of `auth.dir` (already absolute after config load). */
export function fingerprintPathFor(authDir: string): string {
  return join(dirname(authDir), 'fingerprint.json');
}

/**
 * The MAC of the first interface (in the OS's order) that has an address, is not internal
 * (loopback) and has a real MAC. Node lists only interfaces with addresses, which is how "up" shows.
 */
export function firstHardwareAddress(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  for (const addresses of Object.values(interfaces)) {
    for (const address of addresses ?? []) {
      if (!address.internal && address.mac !== '00:00:00:00:00:00' && address.mac !== '') return address.mac.toLowerCase();
    }
  }
  return undefined;
}

/** Hex SHA-256 over length-prefixed fields, so no two different inputs concatenate to the same bytes. */
export function computeFingerprint(parts: { identity: string; hostname: string; salt: Buffer }): string {
  const hash = createHash('sha256').update('cliproxyapi-device-fingerprint-v1');
  for (const field of [Buffer.from(parts.identity, 'utf8'), Buffer.from(parts.hostname, 'utf8'), parts.salt]) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(field.length);
    hash.update(length).update(field);
  }
  return hash.digest('hex');
}

/** Reads the persisted fingerprint, or computes and persists it on first use. Throws on an unsafe or corrupt file. */
export function loadOrCreateFingerprint(path: string, environment: FingerprintEnvironment = systemEnvironment): DeviceFingerprint {
  const existing = readFingerprintFile(path);
  if (existing !== undefined) return { value: existing.fingerprint, source: existing.source, path, created: false };

  const salt = environment.randomBytes(32);
  const mac = firstHardwareAddress(environment.networkInterfaces());
  const identity = mac === undefined ? `random:${environment.randomBytes(32).toString('hex')}` : `mac:${mac}`;
  const file: FingerprintFile = {
    v: 1,
    salt: salt.toString('base64'),
    fingerprint: computeFingerprint({ identity, hostname: environment.hostname(), salt }),
    source: mac === undefined ? 'random' : 'mac',
    created_at: new Date(environment.now()).toISOString(),
  };
  salt.fill(0);
  if (!createPrivateFileExclusiveSync(path, `${JSON.stringify(file, null, 2)}\n`)) {
    const winner = readFingerprintFile(path); // another process created it first: its value wins
    if (winner === undefined) throw new Error(`${path} vanished while being created`);
    return { value: winner.fingerprint, source: winner.source, path, created: false };
  }
  return { value: file.fingerprint, source: file.source, path, created: true };
}

/** The file is about 250 bytes; anything over 64 KiB is not ours. */
const maxFingerprintFileBytes = 65_536;

function readFingerprintFile(path: string): FingerprintFile | undefined {
  let read;
  try {
    read = readRegularFileSync(path, { maxBytes: maxFingerprintFileBytes });
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    if (error.reason === 'missing') return undefined;
    if (error.reason === 'symlink') throw new Error(`${path} is a symbolic link; refusing to follow it. Remove it (the fingerprint is recreated) or restore the real file.`);
    throw error;
  }
  const { content, stats } = read;
  if ((stats.mode & 0o077) !== 0) throw new Error(`${path} is readable by other users (mode ${(stats.mode & 0o777).toString(8)}); fix it with: chmod 600 ${path}`);
  if (typeof process.getuid === 'function' && stats.uid !== process.getuid()) throw new Error(`${path} is owned by another user (uid ${stats.uid}); fix it with: chown ${process.getuid()} ${path}`);
  let parsed: Partial<FingerprintFile>;
  try {
    parsed = JSON.parse(content.toString('utf8')) as Partial<FingerprintFile>;
  } catch {
    parsed = {};
  }
  if (
    parsed.v !== 1 ||
    typeof parsed.fingerprint !== 'string' ||
    !/^[0-9a-f]{64}$/.test(parsed.fingerprint) ||
    (parsed.source !== 'mac' && parsed.source !== 'random')
  ) {
    throw new Error(`${path} is not a valid fingerprint file; restore it from a backup (deleting it creates a NEW fingerprint)`);
  }
  return parsed as FingerprintFile;
}

const headersByAuthDir = new Map<string, Readonly<Record<string, string>>>();

/**
 * The `X-Device-Fingerprint` header for one provider's upstream requests: only when the provider
 * sets `device_fingerprint: true` (opt-in: it identifies this install to the upstream). The file
 * is read once per data dir, then served from memory; call `preloadDeviceFingerprint` at startup
 * so an unsafe or corrupt file stops the start instead of failing requests.
 */
export function deviceFingerprintHeaders(provider: { readonly device_fingerprint?: boolean }, authDir: string): Readonly<Record<string, string>> | undefined {
  if (provider.device_fingerprint !== true) return undefined;
  let headers = headersByAuthDir.get(authDir);
  if (headers === undefined) {
    headers = Object.freeze({ 'x-device-fingerprint': loadOrCreateFingerprint(fingerprintPathFor(authDir)).value });
    headersByAuthDir.set(authDir, headers);
  }
  return headers;
}

/** Loads (or creates) the fingerprint at startup when any provider sends it. Throws on an unsafe file. */
export function preloadDeviceFingerprint(config: { readonly auth: { readonly dir: string }; readonly providers: Readonly<Record<string, { readonly device_fingerprint?: boolean }>> }): void {
  for (const provider of Object.values(config.providers)) deviceFingerprintHeaders(provider, config.auth.dir);
}
