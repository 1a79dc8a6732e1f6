/**
 * The logins `cliproxyapi login` offers, apart from the flow so that the CLI can parse its
 * argument without loading the flow (and undici) for every other command.
 */
export type LoginKind = 'claude' | 'codex' | 'gemini';

export const loginKinds: readonly LoginKind[] = ['claude', 'codex', 'gemini'];
