/**
 * Model-name patterns for `excluded_models` (per provider and per upstream key): `*` matches any
 * run of characters (`gemini-2.5-*`, `*-preview`, `*`), everything else literally, case-sensitive
 * like model names. Compiled once per config into one regular expression per list, so a request
 * tests a name with one `RegExp.test`.
 */
export interface ModelPatternList {
  /** True when a pattern of the list matches the whole name. */
  matches(model: string): boolean;
  readonly empty: boolean;
}

const nothing: ModelPatternList = { matches: () => false, empty: true };

function escaped(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function compileModelPatterns(patterns: readonly string[] | undefined): ModelPatternList {
  if (patterns === undefined || patterns.length === 0) return nothing;
  const alternatives = patterns.map((pattern) => pattern.split('*').map(escaped).join('.*'));
  const expression = new RegExp(`^(?:${alternatives.join('|')})$`);
  return { matches: (model) => expression.test(model), empty: false };
}
