import { request } from 'undici';
import { fail, pass, skip, warn, type CheckResult, type DoctorContext } from '../check-result.js';
import { rotationPeriodDays } from './credential-store-checks.js';

/**
 * Post-deployment: the running proxy, through its management API (`--url`, a management key of
 * any role from CLIPROXY_MANAGEMENT_KEY — never a command-line argument, which `ps` shows). What only
 * the running process knows: the credentials it serves and when each was last renewed
 * (`proxy-credentials`), the IP blocks in force across replicas (`proxy-ip-blocks`), and its audit
 * chain verified now, as `audit verify` would (`proxy-audit-chain`). An unreachable proxy is a skip:
 * the pre-deployment checks above still stand.
 */
export const runningProxyCheckIds = ['proxy-credentials', 'proxy-ip-blocks', 'proxy-audit-chain'] as const;

/** One management call: 5 s at most, so a hung proxy cannot hang a pipeline. */
const requestTimeoutMs = 5_000;
const dayMs = 86_400_000;

type Answer = { kind: 'ok'; body: unknown } | { kind: 'unreachable'; reason: string } | { kind: 'refused'; status: number; code: string; message: string };

/**
 * undici's `request`, not `fetch`: fetch refuses the browsers' "bad ports" (6000, 6665-6669, 10080
 * and others) before connecting, and a proxy may well listen on one. `request` follows no redirect:
 * a 3xx is reported as an answer that is not the management API's.
 */
async function call(url: string, path: string, key: string): Promise<Answer> {
  let status: number;
  let text: string;
  try {
    const response = await request(`${url}/v0/management${path}`, { method: 'GET', headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(requestTimeoutMs) });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    const failure = error as { code?: string; cause?: { code?: string; message?: string }; name?: string };
    return { kind: 'unreachable', reason: failure.code ?? failure.cause?.code ?? failure.cause?.message ?? failure.name ?? 'error' };
  }
  if (status >= 300 && status < 400) return { kind: 'refused', status, code: 'redirect', message: 'the answer is a redirect: point --url at the proxy itself' };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: 'refused', status, code: 'not JSON', message: 'the answer is not JSON: is this the cliproxyapi port?' };
  }
  if (status >= 200 && status < 300) return { kind: 'ok', body };
  const error = (body as { error?: { code?: string; message?: string } }).error;
  return { kind: 'refused', status, code: error?.code ?? String(status), message: error?.message ?? '' };
}

function refusal(id: string, url: string, answer: Extract<Answer, { kind: 'refused' }>): CheckResult {
  if (answer.status === 401) return fail(id, `${url} refused CLIPROXY_MANAGEMENT_KEY (401 ${answer.code})`, 'set CLIPROXY_MANAGEMENT_KEY to a management key of the running proxy (any role: auditor is enough)');
  if (answer.code === 'GW_MANAGEMENT_REMOTE_REFUSED') return fail(id, `${url} answers the management API on loopback only (403)`, 'run the doctor on the proxy\'s host (or in its container) against http://127.0.0.1:PORT');
  return fail(id, `${url} answered ${answer.status} ${answer.code}: ${answer.message}`, 'see docs/errors.md for the code');
}

interface StoredCredential {
  id: string;
  provider: string;
  updated_at: string;
}

export async function checkRunningProxy(context: DoctorContext): Promise<CheckResult[]> {
  const { url } = context;
  if (url === undefined) return runningProxyCheckIds.map((id) => skip(id, 'no --url: the running proxy was not asked', 'after the deployment: CLIPROXY_MANAGEMENT_KEY=… cliproxyapi doctor --url https://HOST:PORT'));
  const key = context.env['CLIPROXY_MANAGEMENT_KEY'];
  if (key === undefined || key === '') return runningProxyCheckIds.map((id) => skip(id, 'CLIPROXY_MANAGEMENT_KEY is not set: the management API needs a key', 'create one with `cliproxyapi management-keys create --id doctor --role auditor` and export it'));
  const credentials = await call(url, '/credentials', key);
  if (credentials.kind === 'unreachable') return runningProxyCheckIds.map((id) => skip(id, `the proxy at ${url} is unreachable (${credentials.reason})`, 'start it, or check --url (scheme, host, port; NODE_EXTRA_CA_CERTS for a private CA)'));
  const results: CheckResult[] = [];
  results.push(credentials.kind === 'refused' ? refusal('proxy-credentials', url, credentials) : judgeCredentials(credentials.body, context.now));
  const blocks = await call(url, '/ip-blocks', key);
  results.push(blocks.kind === 'ok' ? judgeIpBlocks(blocks.body) : blocks.kind === 'refused' ? refusal('proxy-ip-blocks', url, blocks) : skip('proxy-ip-blocks', `unreachable (${blocks.reason})`));
  const audit = await call(url, '/audit?limit=1', key);
  if (audit.kind === 'ok') results.push(judgeAuditChain(audit.body, context.now));
  else if (audit.kind === 'refused' && audit.status === 409) results.push(fail('proxy-audit-chain', `the running proxy cannot verify its audit chain: ${audit.message}`, 'turn audit.enabled on and keep audit.key_file readable by the proxy'));
  else results.push(audit.kind === 'refused' ? refusal('proxy-audit-chain', url, audit) : skip('proxy-audit-chain', `unreachable (${audit.reason})`));
  return results;
}

function judgeCredentials(body: unknown, now: Date): CheckResult {
  const { credentials = [], unreadable = [], plaintext_files: plaintext = 0 } = body as { credentials?: StoredCredential[]; unreadable?: unknown[]; plaintext_files?: number };
  const old = credentials.filter((entry) => now.getTime() - Date.parse(entry.updated_at) > rotationPeriodDays * dayMs);
  const details = old.map((entry) => `${entry.id} (${entry.provider}): last updated ${entry.updated_at.slice(0, 10)}`);
  if (old.length > 0 || unreadable.length > 0 || plaintext > 0) {
    const parts = [old.length > 0 ? `${old.length} not renewed for over ${rotationPeriodDays} days` : '', unreadable.length > 0 ? `${unreadable.length} unreadable` : '', plaintext > 0 ? `${plaintext} in clear` : ''].filter((part) => part !== '');
    return warn('proxy-credentials', `the running proxy's credentials: ${parts.join(', ')}`, 'rotate or log in again (cliproxyapi login PROVIDER); encrypt plaintext files with creds check --migrate', details);
  }
  return pass('proxy-credentials', `the running proxy serves ${credentials.length} stored credential(s), each renewed within ${rotationPeriodDays} days`);
}

function judgeIpBlocks(body: unknown): CheckResult {
  const blocks = (body as { ip_blocks?: { ip: string; until: string }[] }).ip_blocks ?? [];
  if (blocks.length === 0) return pass('proxy-ip-blocks', 'no IP block in force');
  return warn('proxy-ip-blocks', `${blocks.length} IP block(s) in force: something tripped an alert rule or an operator blocked it`, 'look them up in the audit log (event ip-block) before lifting any: DELETE /v0/management/ip-blocks/IP', blocks.map((block) => `${block.ip} until ${block.until}`));
}

function judgeAuditChain(body: unknown, now: Date): CheckResult {
  const chain = (body as { chain?: { intact?: boolean; records?: number; algorithm?: string; problem?: string } }).chain;
  if (chain?.intact !== true) return fail('proxy-audit-chain', `the running proxy's audit chain is broken: ${chain?.problem ?? 'no verdict'}`, 'treat it as an incident: docs/incident-response.md; `cliproxyapi audit verify` on the host names the record');
  return pass('proxy-audit-chain', `the running proxy verified its chain at ${now.toISOString()}: ${chain.records ?? 0} record(s), ${chain.algorithm ?? '?'}`);
}
