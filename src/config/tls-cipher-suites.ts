/**
 * TLS cipher suites, named in the config by their IANA names (what RFCs, testssl and browsers
 * print) and handed to OpenSSL by its own names. Only forward-secret AEAD suites are accepted: the
 * table below is the whole list, so a suite that is not in it is refused with a reason rather than
 * passed to OpenSSL, which would silently ignore a name it does not know.
 */

/** TLS 1.2 suites: ECDHE key exchange (forward secrecy) with an AEAD cipher (GCM or ChaCha20-Poly1305). */
export const tls12CipherSuites: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};

/**
 * TLS 1.3 suites. Every TLS 1.3 suite is AEAD with forward secrecy; the CCM ones are left out
 * because OpenSSL does not enable them by default and no client needs them. OpenSSL uses the IANA
 * names for TLS 1.3.
 */
export const tls13CipherSuites: Readonly<Record<string, string>> = {
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
};

/**
 * Why a suite outside the tables is refused, when its name shows it (checked in this order).
 * The name says what it is: a CBC mode is open to padding-oracle attacks (Lucky13, POODLE), RC4 and
 * 3DES are broken or 64-bit-block ciphers (Sweet32), RSA or DHE key exchange without ECDHE gives
 * no forward secrecy (static RSA) or slow, often weak groups (DHE).
 */
const weaknesses: readonly { pattern: RegExp; reason: string }[] = [
  { pattern: /NULL|EXPORT|anon/i, reason: 'no encryption, export-grade or unauthenticated' },
  { pattern: /RC4/i, reason: 'RC4 is broken' },
  { pattern: /3DES|_DES_|DES_CBC/i, reason: '3DES/DES has a 64-bit block (Sweet32)' },
  { pattern: /CBC/i, reason: 'CBC mode is open to padding-oracle attacks; use a GCM or ChaCha20-Poly1305 suite' },
  { pattern: /^TLS_(RSA|DHE|DH|PSK|SRP|ECDH)_/i, reason: 'no ECDHE key exchange (no forward secrecy)' },
];

/** The reason a suite name is refused for `list`, or undefined when it is accepted. */
export function cipherSuiteProblem(name: string, list: 'tls12' | 'tls13'): string | undefined {
  const table = list === 'tls12' ? tls12CipherSuites : tls13CipherSuites;
  if (Object.prototype.hasOwnProperty.call(table, name)) return undefined;
  const other = list === 'tls12' ? tls13CipherSuites : tls12CipherSuites;
  if (Object.prototype.hasOwnProperty.call(other, name)) {
    return list === 'tls12' ? 'is a TLS 1.3 suite: list it under server.tls.cipher_suites_tls13' : 'is a TLS 1.2 suite: list it under server.tls.cipher_suites';
  }
  const weakness = weaknesses.find((entry) => entry.pattern.test(name));
  if (weakness !== undefined) return `is refused: ${weakness.reason}`;
  return `is not a known suite; accepted: ${Object.keys(table).join(', ')}`;
}

/**
 * The OpenSSL cipher string for Node's `ciphers` option: TLS 1.3 names first, then the TLS 1.2
 * OpenSSL names (Node splits the string by the `TLS_` prefix). Call only after validation.
 */
export function openSslCipherList(tls12: readonly string[], tls13: readonly string[]): string {
  const names = [...tls13.map((name) => tls13CipherSuites[name]), ...tls12.map((name) => tls12CipherSuites[name])];
  return names.filter((name): name is string => name !== undefined).join(':');
}
