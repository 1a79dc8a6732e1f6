import { InvalidArgumentError, type Command } from 'commander';
import { loginKinds, type LoginKind } from '../../login/login-kinds.js';
import { environmentOf, type CliIo } from '../cli-io.js';
import { cliSecurityEvents, configOptionFlags, configOptionHelp, loadConfigFor, openStoreFor } from './encryption.js';

/** Default wait for the browser: 5 minutes, as the Gemini CLI waits. */
const defaultTimeoutSeconds = 300;

function parseTimeout(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw new InvalidArgumentError('a whole number of seconds from 1 to 3600');
  return seconds;
}

function parseKind(value: string): LoginKind {
  if (!(loginKinds as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${loginKinds.join(', ')}`);
  return value as LoginKind;
}

/**
 * `login claude|codex|gemini`: signs in to a subscription account the way the official CLI does
 * (authorization code with PKCE, loopback callback) and stores the tokens encrypted in auth.dir,
 * where the refresher keeps them fresh and a running server picks them up. Prints the URL and the
 * outcome, never a token.
 */
export function registerLoginCommand(program: Command, io: CliIo): void {
  program
    .command('login')
    .description('sign in to a Claude, Codex or Gemini account')
    .argument('<account>', `which login: ${loginKinds.join(', ')}`, parseKind)
    .option('--provider <name>', 'provider under providers: the credential serves (default: the only one using that login, or of its own type)')
    .option('--id <id>', 'credential id (default: <provider>-<account email>)')
    .option('--replace', 'overwrite a stored credential with the same id (a new login of the same account)')
    .option('--no-browser', 'do not try to open a browser; only print the URL')
    .option('--timeout <seconds>', `how long to wait for the browser (default ${defaultTimeoutSeconds})`, parseTimeout)
    .option(configOptionFlags, configOptionHelp)
    .addHelpText(
      'after',
      `
How it works: the command starts a one-shot server on 127.0.0.1 (Claude and Gemini: a free port;
Codex: port 1455, the only one its client accepts), prints the provider's sign-in URL and opens it
in a browser when one is available (never without a display, and never through a shell). After you
consent, the provider sends the browser back to that server with a code; the code, proven by PKCE
(S256) and checked against the login's state, is exchanged for tokens, which are written encrypted
to auth.dir. The server then closes: a second or late callback is refused. A running cliproxyapi
picks the new credential up without a restart; the refresher keeps it fresh.

On a machine without a browser (a server over SSH): run with --no-browser, forward the callback
port from your workstation (ssh -L PORT:127.0.0.1:PORT HOST, the port is printed), and open the
URL there.

Which provider: Claude needs a provider with type: anthropic; Codex one with type: codex (or
type: openai, or oauth: { profile: openai-codex }); Gemini one with type: gemini (or
oauth: { profile: google }) and oauth.client_secret set. With several providers using the login,
the only one of the login's own type (anthropic, codex, gemini) is picked; otherwise --provider.
A server without a terminal can run the same login through the management API
(POST /v0/management/logins, docs/operations.md).
providers.<name>.oauth.authorize_url, token_url, client_id, scope and redirect_port override the
official values (for a private deployment or a test server).

Examples:
  $ cliproxyapi login claude
  $ cliproxyapi login codex --no-browser
  $ cliproxyapi login gemini --provider gemini --id gemini-work --timeout 600
  $ cliproxyapi login claude --id claude-me --replace     # sign in again, replacing the tokens`,
    )
    .action(async (kind: LoginKind, options: { provider?: string; id?: string; replace?: boolean; browser: boolean; timeout?: number; config?: string }) => {
      // Loaded here, not at start: the flow pulls in the HTTP client, which no other command needs.
      const { resolveLoginProvider, runLogin } = await import('../../login/login-flow.js');
      const { openInBrowser } = await import('../../login/browser.js');
      const loaded = loadConfigFor(options.config, io);
      const target = resolveLoginProvider(loaded.config, kind, options.provider);
      const events = await cliSecurityEvents(loaded, io);
      const store = await openStoreFor(loaded, io, events);
      const env = environmentOf(io);
      try {
        await runLogin({
          kind,
          providerName: target.name,
          provider: target.provider,
          store,
          events,
          actor: 'cli',
          ...(options.id === undefined ? {} : { id: options.id }),
          replace: options.replace === true,
          timeoutMs: (options.timeout ?? defaultTimeoutSeconds) * 1000,
          print: (line) => io.stdout(`${line}\n`),
          ...(options.browser ? { openBrowser: io.openBrowser ?? ((url: string) => openInBrowser(url, env)) } : {}),
        });
      } finally {
        store.keyring.destroy();
      }
    });
}
