import type { OperatorCodeFor } from '../errors/operator-codes.js';
import { readRegularFile } from '../files/read-file.js';
import { secretPathProblems } from '../files/secret-path-check.js';

/**
 * The key that signs webhook notifications (HMAC-SHA-256; alerts/webhook.ts): from the environment
 * variable `CLIPROXY_ALERT_WEBHOOK_SECRET`, else from `alerting.webhook.secret_file`, which must be
 * a regular file (no symlink) readable by the gateway's user only. The receiver holds the same
 * secret. Never generated: an operator who sets a webhook chooses the secret both ends share.
 * Read once at start; a refusal names the file and the fix, never the content.
 */
export const webhookSecretEnv = 'CLIPROXY_ALERT_WEBHOOK_SECRET';

/** Shortest secret accepted: 32 characters (e.g. `openssl rand -hex 16`). */
const minimumSecretLength = 32;

export class WebhookSecretError extends Error {
  override readonly name = 'WebhookSecretError';

  constructor(
    message: string,
    readonly code: OperatorCodeFor<'WebhookSecretError'>,
  ) {
    super(message);
  }
}

export async function loadWebhookSecret(secretFile: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<Buffer> {
  const fromEnv = env[webhookSecretEnv];
  let text: string;
  if (fromEnv !== undefined && fromEnv !== '') {
    text = fromEnv.trim();
  } else {
    let read;
    try {
      read = await readRegularFile(secretFile, { maxBytes: 4_096 });
    } catch (error) {
      throw new WebhookSecretError(
        `alerting.webhook.secret_file: ${(error as Error).message}; a webhook needs a secret to sign with: ` +
          `write one (openssl rand -hex 32 > ${secretFile}; chmod 600 ${secretFile}) or set ${webhookSecretEnv}`,
        'ALERT_WEBHOOK_SECRET_MISSING',
      );
    }
    const problems = secretPathProblems(secretFile, read.stats, 'file');
    if (problems.length > 0) {
      throw new WebhookSecretError(
        `alerting.webhook.secret_file: ${secretFile} ${problems.map((problem) => `${problem.problem} (fix: ${problem.fix})`).join('; ')}`,
        'ALERT_WEBHOOK_SECRET_UNSAFE',
      );
    }
    text = read.content.toString('utf8').trim();
  }
  // Printable ASCII only (0x21-0x7e): no space, no control character, nothing a shell or header would mangle.
  if (text.length < minimumSecretLength || !/^[!-~]+$/.test(text)) {
    throw new WebhookSecretError(
      `the webhook secret (${fromEnv !== undefined && fromEnv !== '' ? webhookSecretEnv : secretFile}) must be at least ${minimumSecretLength} printable characters without spaces`,
      'ALERT_WEBHOOK_SECRET_MISSING',
    );
  }
  return Buffer.from(text, 'utf8');
}
