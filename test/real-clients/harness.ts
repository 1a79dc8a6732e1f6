import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { Invocation } from './clients.js';

/**
 * The moving parts of one real-client run: the BUILT gateway (`dist/cli/main.js serve`, as a user
 * starts it) in a temp directory, an egress recorder standing in for the internet, and the client
 * process, each bounded in time and stopped by `stop()`.
 */
const binary = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');

/** Random keys, made at run time: obviously test values, never committed. */
export function generateKey(kind: 'client' | 'upstream'): string {
  return `test-${kind}-key-${randomBytes(20).toString('hex')}`;
}

export interface GatewayUnderTest {
  url: string;
  /** Everything the gateway wrote to stdout and stderr so far (its log). */
  output(): string;
  stop(): Promise<void>;
}

export interface GatewayProvider {
  type: 'anthropic' | 'openai' | 'gemini';
  baseUrl: string;
  upstreamKey: string;
  /** What the client asks for (an alias) → the stub's model name (what goes upstream). */
  models: { name: string; alias?: string }[];
}

async function within<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${milliseconds} ms waiting for ${what}`)), milliseconds)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `cliproxyapi serve` with a config of one provider and one client key (its hash only). */
export async function startBuiltGateway(provider: GatewayProvider, clientKey: string): Promise<GatewayUnderTest> {
  const directory = mkdtempSync(join(tmpdir(), 'cliproxy-real-client-'));
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    auth: { api_keys: [{ id: 'real-client', key_sha256: createHash('sha256').update(clientKey).digest('hex') }] },
    // The stub upstream is on loopback, which the egress guard refuses without the flag.
    providers: { upstream: { type: provider.type, base_url: provider.baseUrl, api_keys: [provider.upstreamKey], models: provider.models, allow_private_network: true } },
  };
  writeFileSync(join(directory, 'config.yaml'), stringify(config), { mode: 0o600 });
  const child = spawn(process.execPath, [binary, 'serve', '--config', 'config.yaml'], {
    cwd: directory,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', CLIPROXY_SERVER_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let announce: (url: string) => void = () => undefined;
  const announced = new Promise<string>((resolveUrl) => (announce = resolveUrl));
  const take = (piece: Buffer): void => {
    output += piece.toString();
    const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
    if (match?.[1] !== undefined) announce(match[1]);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await within(exited, 10_000, 'the gateway to exit').catch(() => child.kill('SIGKILL'));
    }
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    const url = await within(Promise.race([announced, exited.then(() => Promise.reject(new Error(`gateway exited:\n${output}`)))]), 15_000, 'the gateway');
    return { url, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface EgressRecorder {
  /** `http://127.0.0.1:PORT`, for HTTPS_PROXY / HTTP_PROXY. */
  url: string;
  /** Every destination a client tried to reach through it (CONNECT host:port, or a proxied URL). */
  attempts: string[];
  close(): Promise<void>;
}

/**
 * A stand-in for the internet: an HTTP proxy that records where a client tried to go and refuses
 * (CONNECT → 403 and close; plain requests → 403). The machine has no network anyway; this makes
 * an attempt visible instead of a silent timeout.
 */
export async function startEgressRecorder(): Promise<EgressRecorder> {
  const attempts: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    attempts.push(`${request.method ?? 'GET'} ${request.url ?? ''}`);
    response.writeHead(403).end();
  });
  server.on('connect', (request: { url?: string }, socket: Socket) => {
    socket.on('error', () => undefined); // a client resetting the refused tunnel is expected
    attempts.push(`CONNECT ${request.url ?? ''}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => undefined);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    },
  };
}

export interface ClientRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** A fresh HOME for one client run, with the config directory the client will use inside it. */
export function makeClientHome(): { home: string; remove: () => void } {
  const home = mkdtempSync(join(tmpdir(), 'cliproxy-client-home-'));
  mkdirSync(join(home, '.claude'), { mode: 0o700 });
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}

/** Runs the client to its end, killed (SIGKILL, whole process) after `timeoutMs`. */
export async function runClient(binaryPath: string, invocation: Invocation, cwd: string, timeoutMs: number): Promise<ClientRun> {
  const child: ChildProcess = spawn(binaryPath, invocation.args, { cwd, env: invocation.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (piece: Buffer) => (stdout += piece.toString()));
  child.stderr?.on('data', (piece: Buffer) => (stderr += piece.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const [exitCode, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { exitCode, signal, stdout, stderr, timedOut };
}
