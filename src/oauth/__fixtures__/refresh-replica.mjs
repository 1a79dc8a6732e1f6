// One "replica" for refresh-redis.test.ts: a separate Node process with its own CredentialRefresher
// and its own Redis connection, sharing the store directory and the Redis server with the other.
// Runs the built code (dist/), which the test global setup compiles before every run.
// The store here is a plain JSON file store for the test only (part A's encrypted store is tested on its own).
import { randomBytes } from 'node:crypto';
import { readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const distRoot = process.env.DIST_ROOT;
const { CredentialRefresher } = await import(join(distRoot, 'oauth/refresh.js'));
const { RedisStateBackend } = await import(join(distRoot, 'state/redis.js'));
const { anthropicOAuthProfile } = await import(join(distRoot, 'providers/anthropic/oauth.js'));

const directory = process.env.STORE_DIR;
const store = {
  async list() {
    const names = await readdir(directory);
    return Promise.all(names.filter((name) => name.endsWith('.json')).map(async (name) => JSON.parse(await readFile(join(directory, name), 'utf8'))));
  },
  async read(id) {
    return JSON.parse(await readFile(join(directory, `${id}.json`), 'utf8'));
  },
  async write(record) {
    const temporary = join(directory, `.${record.id}.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(temporary, JSON.stringify(record), { mode: 0o600 });
    await rename(temporary, join(directory, `${record.id}.json`));
  },
  async delete(id) {
    await unlink(join(directory, `${id}.json`));
  },
};

const log = (level) => (fields, message) => process.stderr.write(`${JSON.stringify({ level, msg: message, replica: process.pid, ...fields })}\n`);
const state = new RedisStateBackend({ url: process.env.REDIS_URL, namespace: 'replica-test:' });
await state.ready();
const refresher = new CredentialRefresher({
  store,
  state,
  profileFor: () => ({ ...anthropicOAuthProfile, tokenUrl: process.env.TOKEN_URL }),
  logger: { info: log('info'), warn: log('warn') },
  timeoutMs: 5_000,
  pollIntervalMs: 50,
});
const credential = refresher.track(await store.read(process.env.CREDENTIAL_ID));
process.stdout.write('ready\n');

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() !== 'go') continue;
  const fresh = await refresher.ensureFresh(credential);
  process.stdout.write(`${JSON.stringify({ accessToken: fresh.accessToken })}\n`);
  break;
}
lines.close();
await state.close();
