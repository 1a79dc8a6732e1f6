/**
 * Child processes of the benchmark: spawned pinned to a core, tracked in one registry, and all killed
 * when the run ends however it ends (normal exit, SIGINT, SIGTERM, an uncaught error), so a benchmark
 * never leaves a stub or proxy listening behind it. Only processes started here are ever killed, and
 * always by their own pid.
 */
import { spawn, execFileSync } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();

/** Cores available to this process; pinning needs two (proxy on 0, stub + load on 1). */
export const coreCount = os.availableParallelism();
const canPin = coreCount >= 2 && hasCommand('taskset');

/** Core of the process under test, and core of the stub upstream + load generator. */
export const cores = { target: 0, load: 1 };

/** @param {string} name */
export function hasCommand(name) {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether children are pinned; without two cores and taskset the numbers are much noisier. */
export function pinningEnabled() {
  return canPin;
}

/**
 * Prefixes `taskset -c CORE` when pinning is possible. taskset execs the command, so the child's pid
 * is the pid of the command itself (what /proc accounting needs).
 * @param {string} command @param {string[]} args @param {number | undefined} core
 * @returns {[string, string[]]}
 */
export function pinned(command, args, core) {
  if (core === undefined || !canPin) return [command, args];
  return ['taskset', ['-c', String(core), command, ...args]];
}

/**
 * Spawns a tracked child. stdout/stderr go to `logFile` when given (a pipe that nobody drains would
 * block a chatty proxy and distort its numbers), else they are ignored.
 * @param {{ command: string, args: string[], core?: number, env?: NodeJS.ProcessEnv, logFile?: string, cwd?: string }} options
 */
export function spawnTracked({ command, args, core, env, logFile, cwd }) {
  const [file, fileArgs] = pinned(command, args, core);
  const logFd = logFile ? openSync(logFile, 'a') : undefined;
  const child = spawn(file, fileArgs, {
    cwd,
    env: env ?? process.env,
    stdio: ['ignore', logFd ?? 'ignore', logFd ?? 'ignore'],
  });
  if (logFd !== undefined) closeSync(logFd);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * Starts one of the bench's own node scripts, which print `{"listening":PORT}` on stdout when ready.
 * @param {{ script: string, args: string[], core?: number, timeoutMs?: number }} options
 * @returns {Promise<{ child: import('node:child_process').ChildProcess, pid: number, port: number }>}
 */
export function startListeningScript({ script, args, core, timeoutMs = 10_000 }) {
  const [file, fileArgs] = pinned(process.execPath, [script, ...args], core);
  const child = spawn(file, fileArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    let errorOutput = '';
    const timer = setTimeout(() => fail(new Error(`${script} did not start within ${timeoutMs} ms: ${errorOutput.slice(-500)}`)), timeoutMs);
    const fail = (error) => {
      clearTimeout(timer);
      void stopProcess(child);
      reject(error);
    };
    child.stderr.on('data', (piece) => (errorOutput += piece));
    child.once('exit', (code) => fail(new Error(`${script} exited with ${code}: ${errorOutput.slice(-500)}`)));
    child.stdout.on('data', (piece) => {
      output += piece;
      const line = output.split('\n').find((candidate) => candidate.startsWith('{"listening"'));
      if (!line) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.once('exit', () => children.delete(child));
      child.stdout.resume();
      resolve({ child, pid: /** @type {number} */ (child.pid), port: JSON.parse(line).listening });
    });
  });
}

/**
 * Polls until something accepts TCP connections on 127.0.0.1:port; rejects when the child exits
 * first or the deadline passes.
 * @param {number} port @param {import('node:child_process').ChildProcess} child @param {number} timeoutMs
 */
export async function waitForPort(port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before listening`);
    const open = await new Promise((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
}

/** A free loopback port (bound then released: a small race, acceptable on a quiet bench machine). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * SIGTERM, then SIGKILL after `graceMs`. Resolves when the child is gone.
 * @param {import('node:child_process').ChildProcess} child @param {number} [graceMs]
 */
export function stopProcess(child, graceMs = 2000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => (clearTimeout(timer), resolve(undefined)));
    child.kill('SIGTERM');
  });
}

/**
 * Runs a command to completion with a hard time bound, collecting its output.
 * @param {string} command @param {string[]} args
 * @param {{ core?: number, env?: NodeJS.ProcessEnv, timeoutMs: number, cwd?: string }} options
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string, timedOut: boolean }>}
 */
export function runBounded(command, args, { core, env, timeoutMs, cwd }) {
  const [file, fileArgs] = pinned(command, args, core);
  const child = spawn(file, fileArgs, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (piece) => (stdout += piece));
    child.stderr.on('data', (piece) => (stderr += piece));
    child.once('error', (error) => (stderr += String(error)));
    child.once('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** Kills every tracked child at once (synchronously, so it also works from an 'exit' handler). */
export function killAllTracked() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

/** Installs the handlers that guarantee no child outlives the run. */
export function installCleanup() {
  process.on('exit', killAllTracked);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping all child processes\n`);
      killAllTracked();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`bench: ${error.stack ?? error}\n`);
    killAllTracked();
    process.exit(1);
  });
  process.on('unhandledRejection', (error) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    killAllTracked();
    process.exit(1);
  });
}

/** Last `bytes` of a log file, for error messages. @param {string} file @param {number} [bytes] */
export function logTail(file, bytes = 800) {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}
