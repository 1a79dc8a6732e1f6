import { createHmac, randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { createGuardedLookup } from '../egress/egress-guard.js';

/**
 * Sends `notify_admin` notifications: one JSON POST per notification, signed, retried with
 * exponential backoff, logged, never blocking a request.
 *
 * Signature (documented in docs/operations.md, "Alerts"): `X-Cliproxy-Signature: sha256=<hex>` is
 * HMAC-SHA-256 with the shared secret over `<X-Cliproxy-Timestamp>.<body>` (the timestamp in epoch
 * seconds, a dot, the exact body bytes), so a receiver can refuse a forged or replayed body.
 * `X-Cliproxy-Delivery` is one id per notification, the same on every retry (deduplication).
 *
 * The connection goes through the egress guard (egress/egress-guard.ts) like an upstream call: a
 * host name resolving to a private, loopback or metadata address is refused unless
 * `alerting.webhook.allow_private_network`. Redirects are not followed. The secret and the URL's
 * query are never logged (the log shows the host only).
 */
export interface WebhookOptions {
  url: string;
  secret: Buffer;
  timeoutMs: number;
  maxAttempts: number;
  allowPrivateNetwork: boolean;
  logger: { info(fields: object, message: string): void; warn(fields: object, message: string): void; error(fields: object, message: string): void };
  /** Called when a notification is given up after its last attempt (counted in the metrics). */
  onGiveUp?: () => void;
  /** First retry delay in milliseconds (doubles per attempt); tests shorten it. */
  retryBaseMs?: number;
  now?: () => number;
}

/** Notifications waiting or in flight; beyond this a new one is dropped (logged), so an outage cannot grow memory. */
const maxPending = 64;
/** Longest wait between two attempts. */
const maxRetryDelayMs = 60_000;

export class WebhookNotifier {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly timers = new Set<NodeJS.Timeout>();
  private pending = 0;
  private closed = false;

  constructor(private readonly options: WebhookOptions) {
    this.host = new URL(options.url).host;
    this.agent = new Agent({
      connect: { timeout: options.timeoutMs, ...(options.allowPrivateNetwork ? {} : { lookup: createGuardedLookup() }) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** Queues one notification; returns at once. */
  send(payload: object): void {
    if (this.closed) return;
    if (this.pending >= maxPending) {
      this.options.logger.error({ webhook_host: this.host }, 'alert notification dropped: too many notifications waiting for the webhook');
      this.options.onGiveUp?.();
      return;
    }
    this.pending += 1;
    const delivery = { id: randomUUID(), body: JSON.stringify(payload) };
    this.attempt(delivery, 1);
  }

  /** Stops retries and closes the connections; notifications still waiting are dropped (logged). */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    if (this.timers.size > 0) this.options.logger.warn({ dropped: this.timers.size }, 'alert notifications dropped at shutdown');
    this.timers.clear();
    await this.agent.close();
  }

  private attempt(delivery: { id: string; body: string }, attempt: number): void {
    this.post(delivery).then(
      (status) => {
        if (status >= 200 && status < 300) {
          this.pending -= 1;
          this.options.logger.info({ webhook_host: this.host, delivery: delivery.id, status, attempt }, 'alert notification delivered');
          return;
        }
        // Another 4xx will not change on a retry (a wrong path, a refused signature).
        const retryable = status === 408 || status === 429 || status >= 500;
        this.failed(delivery, attempt, retryable, `the webhook answered ${status}`);
      },
      (error: unknown) => this.failed(delivery, attempt, !this.closed, (error as Error).message),
    );
  }

  private failed(delivery: { id: string; body: string }, attempt: number, retryable: boolean, reason: string): void {
    if (!retryable || attempt >= this.options.maxAttempts || this.closed) {
      this.pending -= 1;
      this.options.logger.error({ webhook_host: this.host, delivery: delivery.id, attempt, reason }, 'alert notification given up');
      this.options.onGiveUp?.();
      return;
    }
    const delayMs = Math.min(maxRetryDelayMs, (this.options.retryBaseMs ?? 1_000) * 2 ** (attempt - 1));
    this.options.logger.warn({ webhook_host: this.host, delivery: delivery.id, attempt, reason, retry_in_ms: delayMs }, 'alert notification failed; retrying');
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.attempt(delivery, attempt + 1);
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private async post(delivery: { id: string; body: string }): Promise<number> {
    const timestamp = String(Math.floor((this.options.now ?? Date.now)() / 1000));
    const signature = createHmac('sha256', this.options.secret).update(`${timestamp}.${delivery.body}`).digest('hex');
    const response = await request(this.options.url, {
      method: 'POST',
      dispatcher: this.agent,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'cliproxyapi-alerts',
        'x-cliproxy-delivery': delivery.id,
        'x-cliproxy-timestamp': timestamp,
        'x-cliproxy-signature': `sha256=${signature}`,
      },
      body: delivery.body,
    });
    await response.body.dump();
    return response.statusCode;
  }
}

/** What a receiver computes to check a notification (docs and tests use it). */
export function webhookSignature(secret: Buffer | string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
