/**
 * Micro-benchmark of the network layer's per-request work (issue 11): client IP resolution, the IP
 * filter, the per-IP token bucket (memory backend) and a provider budget's reservation + settlement
 * (memory backend). The whole-proxy layer matrix (`bench/run.mjs`, rows `ip-filter`,
 * `ip-rate-limit`, `provider-rate-limit`) measures the same layers end to end, but on a busy machine
 * its one-layer-off differences are noise of ±300 µs; these figures isolate the layers' own work.
 * Run after `npm run build`:
 *
 *   taskset -c 0 node bench/network-layers.mjs [--dist path/to/dist] [--rounds 7]
 *
 * Figures: the median over rounds of CPU ns per request (process.cpuUsage, so time the process
 * spent descheduled does not count).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({ options: { dist: { type: 'string', default: 'dist' }, rounds: { type: 'string', default: '7' } } });
const dist = path.resolve(values.dist);
const load = (file) => import(pathToFileURL(path.join(dist, file)).href);
const { createClientIpResolver } = await load('net/client-ip.js');
const { compileIpFilter } = await load('net/ip-filter.js');
const { rateLimitKey } = await load('net/ip-address.js');
const { LocalBuckets } = await load('limits/local-buckets.js');
const { ProviderLimiter } = await load('limits/provider-limiter.js');
const { createNetworkCounters } = await load('limits/counters.js');
const { MemoryStateBackend } = await load('state/memory.js');
const rounds = Number(values.rounds);

const noBans = { size: 0, isBanned: () => false };
// The bench proxy's lists (bench/lib/proxy-layers.mjs): 5 allowed CIDRs, 3 denied.
const filter = compileIpFilter(
  { ip_allowlist: { enabled: true, allowed_ips: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '::1/128'] }, ip_denylist: ['203.0.113.0/24', '198.51.100.0/24', '2001:db8::/32'] },
  noBans,
);
const direct = createClientIpResolver([]);
const behindProxy = createClientIpResolver(['10.0.0.0/8']);
const headers = {};
const forwarded = { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' };
const shape = { ratePerSecond: 1_000_000, burst: 1_000_000 };
const buckets = new LocalBuckets(100_000);
const limiter = new ProviderLimiter({ state: new MemoryStateBackend(), counters: createNetworkCounters() });
const budget = { requests_per_minute: 1_000_000_000, tokens_per_minute: 1_000_000_000_000 };

const perRound = 200_000;

/** Median over rounds of CPU nanoseconds per call of `work(index)` (awaited when it returns a promise). */
async function perCall(name, work, calls = perRound) {
  const samples = [];
  for (let round = 0; round < rounds; round++) {
    const before = process.cpuUsage();
    for (let index = 0; index < calls; index++) {
      const result = work(index);
      if (result instanceof Promise) await result;
    }
    const used = process.cpuUsage(before);
    samples.push(((used.user + used.system) * 1000) / calls);
  }
  samples.sort((left, right) => left - right);
  process.stdout.write(`| ${name} | ${samples[Math.floor(samples.length / 2)].toFixed(0)} |\n`);
}

process.stdout.write('| per-request work | CPU ns |\n|---|---:|\n');
await perCall('client IP, no trusted proxy (socket `::ffff:127.0.0.1`)', () => direct.resolve('::ffff:127.0.0.1', headers));
await perCall('client IP, trusted proxy + X-Forwarded-For (2 hops)', () => behindProxy.resolve('10.0.0.2', forwarded));
await perCall('ip-filter: 5 allow + 3 deny CIDRs, IPv4 client', () => filter.check({ address: '127.0.0.1', family: 'ipv4' }));
await perCall('ip-rate-limit: bucket take, one IPv4 client', () => buckets.take(rateLimitKey({ address: '127.0.0.1', family: 'ipv4' }), shape, Date.now()));
await perCall('ip-rate-limit: bucket take, 10,000 IPv6 clients (key per /64)', (index) =>
  buckets.take(rateLimitKey({ address: `2001:db8:${(index % 10_000).toString(16)}:1::1`, family: 'ipv6' }), shape, Date.now()),
);
await perCall(
  'provider-rate-limit: reserve + settle (memory backend, both budgets)',
  async () => {
    const reservation = await limiter.reserve('stub', budget, 1_200);
    limiter.settle(reservation, 900);
  },
  100_000,
);
