import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { loadManagementClientCa, loadTlsPair, tlsProtocolOptions, type TlsConfig } from './tls-material.js';

/**
 * Hot reload of the listener's certificate and key. Certificates are renewed (ACME, cert-manager)
 * far more often than the gateway should restart, so a changed pair is swapped in with
 * `server.setSecureContext`: new handshakes get the new pair, open connections (a keep-alive
 * socket, a stream) keep the session they negotiated. Fail closed on the new pair only: a key that
 * does not match, a half-written file or a key file that became world-readable keeps the running
 * pair and logs why (never the bytes).
 *
 * Change detection: `fs.watch` on the directories (editors and cert-manager replace files by rename,
 * and a Kubernetes Secret volume swaps a `..data` symlink, so the file itself cannot be watched),
 * plus a periodic digest check, because inotify does not see every change (NFS, some overlay
 * filesystems, a directory recreated).
 */

/** What the reloader needs of the HTTPS server. */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

/** The logger methods used; messages and fields carry paths and reasons only. */
export interface TlsReloadLogger {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface TlsReloaderOptions {
  tls: TlsConfig;
  server: SecureContextTarget;
  logger: TlsReloadLogger;
  /** Periodic digest check, in milliseconds. Default 30 s. */
  pollIntervalMs?: number;
  /** Quiet period after a file event before reading, in milliseconds (both files are often replaced one after the other). Default 250. */
  debounceMs?: number;
}

export interface TlsReloader {
  /** Reads the files now and swaps the pair in when it changed and is valid. Resolves to whether it swapped. */
  check(): Promise<boolean>;
  close(): void;
}

export function startTlsReloader(options: TlsReloaderOptions): TlsReloader {
  // The management client CA (mTLS) lives in the same secure context: a reload without it would
  // drop client-certificate verification, so it is read, checked and swapped with the pair.
  const caFile = options.tls.management_client_ca_file;
  const files = [resolve(options.tls.cert_file), resolve(options.tls.key_file), ...(caFile === undefined ? [] : [resolve(caFile)])];
  const protocol = tlsProtocolOptions(options.tls);
  let appliedDigest = digestFiles(files);
  let failedDigest: string | undefined;
  let closed = false;
  let running: Promise<boolean> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const reload = async (): Promise<boolean> => {
    const digest = digestFiles(files);
    // Unchanged, or the same broken content already reported: nothing to do, nothing to log again.
    if (digest === appliedDigest || digest === failedDigest) return false;
    try {
      const pair = await loadTlsPair(options.tls);
      const ca = await loadManagementClientCa(options.tls).catch((error: unknown) => {
        pair.key.fill(0);
        throw error;
      });
      if (closed) return false;
      options.server.setSecureContext({ ...protocol, cert: pair.cert, key: pair.key, ...(ca === undefined ? {} : { ca }) });
      pair.key.fill(0); // the secure context holds its own copy
      appliedDigest = digest;
      failedDigest = undefined;
      options.logger.info({ cert_file: options.tls.cert_file }, 'TLS certificate and key reloaded');
      return true;
    } catch (error) {
      failedDigest = digest;
      const reason = error instanceof Error ? error.message : 'unknown error';
      const code = (error as { code?: unknown }).code;
      options.logger.error({ err_message: reason, code }, 'TLS certificate reload refused; keeping the running certificate');
      return false;
    }
  };

  const check = (): Promise<boolean> => {
    // One reload at a time; a check asked for during one runs after it.
    const next = (running ?? Promise.resolve(false)).then(reload, reload);
    running = next;
    return next;
  };

  const schedule = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => void check(), options.debounceMs ?? 250);
  };

  const watchers: FSWatcher[] = [];
  for (const directory of new Set(files.map((file) => dirname(file)))) {
    try {
      const watcher = watch(directory, { persistent: false }, schedule);
      watcher.on('error', (error) => options.logger.error({ err_message: error.message }, 'TLS file watch failed; the periodic check continues'));
      watchers.push(watcher);
    } catch (error) {
      options.logger.error({ err_message: (error as Error).message }, 'TLS file watch could not start; the periodic check continues');
    }
  }
  const poll = setInterval(() => void check(), options.pollIntervalMs ?? 30_000);
  poll.unref();

  return {
    check,
    close() {
      closed = true;
      clearInterval(poll);
      if (timer !== undefined) clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/** SHA-256 over the files (following links, so a swapped `..data` symlink counts as a change). */
function digestFiles(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    try {
      const content = readFileSync(file);
      hash.update(content);
      content.fill(0);
    } catch {
      hash.update('missing');
    }
    hash.update('\u0000');
  }
  return hash.digest('hex');
}
