/** relay.toml text → RelayConfig, or a ConfigError naming every bad key by its path. */
import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import { ConfigError, formatPath } from './errors.js';
import { errorMap } from './fields.js';
import { root } from './schema.js';
import type { RelayConfig } from './types.js';

/** Parses and validates relay.toml text; `source` (a file name) prefixes every error line. */
export function parseConfig(tomlText: string, source?: string): RelayConfig {
  let data: unknown;
  try {
    data = parseToml(tomlText, { unsafeKeyBehaviour: 'throw' });
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = err.message.replace(/^Invalid TOML document: /, '');
    const message = `TOML syntax error: ${reason.trimEnd()}`;
    throw new ConfigError([{ path: '', message }], { source, line: err.line, column: err.column, cause: err });
  }
  const result = root.schema.safeParse(data, { errorMap });
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  throw new ConfigError(issues, { source });
}

/** Reads and parses a relay.toml file; unreadable files are ConfigErrors too. */
export function loadConfigFile(path: string): RelayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError([{ path: '', message: `cannot read config file: ${reason}` }], { source: path, cause: err });
  }
  return parseConfig(text, path);
}
