import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { ConfigError } from './config-error.js';

/** Config files are small; anything larger is a mistake or an attack on the parser. 1 MiB. */
export const maxConfigBytes = 1_048_576;

/**
 * YAML aliases allowed per document. A "billion laughs" document expands a few aliases into
 * gigabytes; a real config needs a handful at most.
 */
const maxAliasCount = 16;

/**
 * Parses YAML strictly: duplicate keys are errors (the yaml package's default, made explicit),
 * anchors are capped, and parser messages are reported without the source snippet, which could
 * contain a secret from a neighbouring line.
 */
export function parseYaml(text: string, sourceName: string): unknown {
  if (Buffer.byteLength(text, 'utf8') > maxConfigBytes) throw new ConfigError(sourceName, [`config is larger than ${maxConfigBytes} bytes`], 'CONFIG_UNREADABLE');
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true, merge: false, version: '1.2' });
  const problems = describeIssues([...document.errors, ...document.warnings], text, lineCounter);
  if (problems.length > 0) throw new ConfigError(sourceName, problems, 'CONFIG_YAML_INVALID');
  try {
    return document.toJS({ maxAliasCount });
  } catch (error) {
    throw new ConfigError(sourceName, [`YAML could not be expanded: ${(error as Error).message}`], 'CONFIG_YAML_INVALID');
  }
}

/**
 * One line per issue, at the line where the mistake is. A key indented deeper than its siblings
 * (`  host: x` then `   port: 1`) makes the yaml package read the previous value and the deeper
 * line as one multi-line key: it reports BLOCK_AS_IMPLICIT_KEY and MULTILINE_IMPLICIT_KEY at the
 * start of that value, one line above the mistake. The MULTILINE_IMPLICIT_KEY range ends at the
 * deeper key's colon, so that is the line reported, once.
 */
function describeIssues(issues: readonly YAMLError[], text: string, lineCounter: LineCounter): string[] {
  const multilineKeyStarts = new Set(issues.filter((issue) => issue.code === 'MULTILINE_IMPLICIT_KEY').map((issue) => issue.pos[0]));
  const problems: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'BLOCK_AS_IMPLICIT_KEY' && multilineKeyStarts.has(issue.pos[0])) continue;
    if (issue.code === 'MULTILINE_IMPLICIT_KEY') {
      const line = lineCounter.linePos(issue.pos[1]).line;
      const lineStart = lineCounter.lineStarts[line - 1] ?? 0;
      const column = (/^[ ]*/.exec(text.slice(lineStart))?.[0].length ?? 0) + 1;
      problems.push(`line ${line}, column ${column}: this key is indented deeper than the key above it; align it with its siblings (YAML ${issue.code})`);
      continue;
    }
    const position = lineCounter.linePos(issue.pos[0]);
    problems.push(`line ${position.line}, column ${position.col}: ${issue.message.split('\n')[0] ?? issue.message} (YAML ${issue.code})`);
  }
  return problems;
}
