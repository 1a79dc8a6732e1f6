import { formatConfigPath } from './config-path.js';

/**
 * The rule the gemini adapter uses to pick Code Assist (providers/gemini/code-assist.ts
 * `isCodeAssistBaseUrl`), repeated here because config/ imports nothing above it; a test in
 * providers/gemini checks that the two agree.
 */
export function isCodeAssistUrl(baseUrl: string): boolean {
  try {
    const url = new URL(baseUrl);
    return url.hostname === 'cloudcode-pa.googleapis.com' || /(^|\/)v1internal\/*$/.test(url.pathname);
  } catch {
    return false;
  }
}

/**
 * A `gemini` provider's endpoint settings: Code Assist needs the project its requests name and
 * takes OAuth logins only (an API key there is refused by Google with a 401 on every request);
 * `project` means nothing to another endpoint or type and is refused rather than ignored.
 */
export function geminiEndpointProblems(providerName: string, provider: Readonly<Record<string, unknown>>): string[] {
  const here = (key: string): string => formatConfigPath(['providers', providerName, key]);
  const codeAssist = provider['type'] === 'gemini' && typeof provider['base_url'] === 'string' && isCodeAssistUrl(provider['base_url']);
  const problems: string[] = [];
  if (provider['project'] !== undefined && !codeAssist) {
    problems.push(`${here('project')}: is read only by a gemini provider whose base_url is Code Assist (https://cloudcode-pa.googleapis.com/v1internal)`);
  }
  if (codeAssist && provider['project'] === undefined) {
    problems.push(`${here('project')}: is required with a Code Assist base_url: the Google Cloud project of the Gemini CLI login (loadCodeAssist's cloudaicompanionProject)`);
  }
  if (codeAssist && Array.isArray(provider['api_keys']) && provider['api_keys'].length > 0) {
    problems.push(`${here('api_keys')}: Code Assist takes the Google login's OAuth tokens (stored credentials), not API keys; use base_url https://generativelanguage.googleapis.com/v1beta for Gemini API keys`);
  }
  return problems;
}
