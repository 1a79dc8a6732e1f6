import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeFingerprint, deviceFingerprintHeaders, firstHardwareAddress, fingerprintPathFor, loadOrCreateFingerprint, type FingerprintEnvironment } from './fingerprint.js';

const loopback: NetworkInterfaceInfo = { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' };
const ethernet = (mac: string): NetworkInterfaceInfo => ({ address: '10.0.0.5', netmask: '255.255.255.0', family: 'IPv4', mac, internal: false, cidr: '10.0.0.5/24' });

function environment(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>, host = 'host-a'): FingerprintEnvironment {
  let counter = 0;
  return {
    networkInterfaces: () => interfaces,
    hostname: () => host,
    randomBytes: (size) => Buffer.alloc(size, (counter += 1)),
    now: () => Date.parse('2026-01-01T00:00:00Z'),
  };
}

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'cliproxy-fingerprint-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('device fingerprint', () => {
  it('lives beside auth.dir', () => {
    expect(fingerprintPathFor('/srv/data/auths')).toBe('/srv/data/fingerprint.json');
  });

  it('takes the first non-loopback MAC', () => {
    expect(firstHardwareAddress({ lo: [loopback], eth0: [ethernet('AA:BB:CC:00:11:22')], eth1: [ethernet('aa:bb:cc:00:11:33')] })).toBe('aa:bb:cc:00:11:22');
    expect(firstHardwareAddress({ lo: [loopback] })).toBeUndefined();
  });

  it('is SHA-256 over MAC, host name and salt, stored 0600, and cannot be reversed without the salt', () => {
    const path = join(directory, 'data', 'fingerprint.json');
    const created = loadOrCreateFingerprint(path, environment({ lo: [loopback], eth0: [ethernet('aa:bb:cc:00:11:22')] }));
    expect(created).toMatchObject({ source: 'mac', created: true });
    expect(created.value).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(directory, 'data')).mode & 0o777).toBe(0o700);
    const file = JSON.parse(readFileSync(path, 'utf8')) as { salt: string; fingerprint: string };
    expect(file.fingerprint).toBe(computeFingerprint({ identity: 'mac:aa:bb:cc:00:11:22', hostname: 'host-a', salt: Buffer.from(file.salt, 'base64') }));
    expect(file.fingerprint).not.toBe(computeFingerprint({ identity: 'mac:aa:bb:cc:00:11:22', hostname: 'host-a', salt: Buffer.alloc(32) }));
    expect(readFileSync(path, 'utf8')).not.toContain('aa:bb:cc');
  });

  it('stays the same when the MAC and host name change (a restarted container)', () => {
    const path = join(directory, 'fingerprint.json');
    const first = loadOrCreateFingerprint(path, environment({ eth0: [ethernet('aa:bb:cc:00:11:22')] }, 'container-1'));
    const second = loadOrCreateFingerprint(path, environment({ eth0: [ethernet('02:42:ac:11:00:02')] }, 'container-2'));
    expect(second).toMatchObject({ value: first.value, created: false });
  });

  it('uses a stored random id when there is no MAC', () => {
    const path = join(directory, 'fingerprint.json');
    const created = loadOrCreateFingerprint(path, environment({ lo: [loopback] }));
    expect(created.source).toBe('random');
    expect(loadOrCreateFingerprint(path, environment({ lo: [loopback] })).value).toBe(created.value);
  });

  it('refuses a file other users can read, and a symlink, naming the fix', () => {
    const path = join(directory, 'fingerprint.json');
    loadOrCreateFingerprint(path, environment({}));
    chmodSync(path, 0o644);
    expect(() => loadOrCreateFingerprint(path, environment({}))).toThrow(`chmod 600 ${path}`);
    const link = join(directory, 'link', 'fingerprint.json');
    loadOrCreateFingerprint(join(directory, 'link', 'x.json'), environment({}));
    symlinkSync(path, link);
    expect(() => loadOrCreateFingerprint(link, environment({}))).toThrow(/symbolic link/);
  });

  it('refuses a corrupt file instead of silently making a new fingerprint', () => {
    const path = join(directory, 'fingerprint.json');
    writeFileSync(path, '{"v":1,"fingerprint":"nope"}', { mode: 0o600 });
    expect(() => loadOrCreateFingerprint(path, environment({}))).toThrow(/not a valid fingerprint file/);
  });
});

describe('deviceFingerprintHeaders', () => {
  it('sends the header only to providers with device_fingerprint: true', () => {
    const authDir = join(directory, 'data', 'auths');
    expect(deviceFingerprintHeaders({}, authDir)).toBeUndefined();
    expect(deviceFingerprintHeaders({ device_fingerprint: false }, authDir)).toBeUndefined();
    const headers = deviceFingerprintHeaders({ device_fingerprint: true }, authDir);
    expect(headers?.['x-device-fingerprint']).toBe(loadOrCreateFingerprint(fingerprintPathFor(authDir)).value);
  });
});
