/** The one error the config loader throws: every problem found, each named by its key path. */

export interface ConfigIssue {
  /** Key path as written in relay.toml, e.g. `http[0].output[1].location`; empty for the file as a whole. */
  readonly path: string;
  readonly message: string;
}

export interface ConfigErrorOptions {
  /** File name (or other label) prefixed to every line of the message. */
  readonly source?: string;
  /** For TOML syntax errors: 1-based position. */
  readonly line?: number;
  readonly column?: number;
  readonly cause?: unknown;
}

export class ConfigError extends Error {
  readonly code = 'ERR_RELAY_CONFIG';
  /** Path of the first issue. */
  readonly path: string;
  readonly issues: readonly ConfigIssue[];
  readonly source: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(issues: readonly ConfigIssue[], options: ConfigErrorOptions = {}) {
    super(issues.map((i) => formatIssue(i, options)).join('\n'), { cause: options.cause });
    this.name = 'ConfigError';
    this.issues = issues;
    this.path = issues[0]?.path ?? '';
    this.source = options.source;
    this.line = options.line;
    this.column = options.column;
  }
}

function formatIssue(issue: ConfigIssue, o: ConfigErrorOptions): string {
  let where = o.source ?? '';
  if (o.line !== undefined) where += `${where === '' ? 'line ' : ':'}${o.line}:${o.column ?? 0}`;
  const parts = [where, issue.path, issue.message].filter((p) => p !== '');
  return parts.join(': ');
}

/** `['http', 0, 'output', 1, 'location']` → `http[0].output[1].location`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}
