/**
 * Cluster file loading: TOML text → validated Cluster, or a ClusterError whose lines each name a key path
 * (`databases[1].address: expected host:port`), prefixed by the file when there is one.
 */
import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import type { ZodIssue } from 'zod';
import { clusterSchema } from './cluster.js';
import type { Cluster } from './cluster.js';
import { formatPath } from '../config/errors.js';
import { clusterRules } from './cluster-rules.js';

export interface ClusterIssue {
  /** Key path in the cluster file, like `databases[1].address`; empty for the file as a whole. */
  readonly path: string;
  readonly message: string;
}

export class ClusterError extends Error {
  readonly code = 'ERR_CLUSTER_INVALID';
  constructor(
    readonly issues: readonly ClusterIssue[],
    readonly source?: string,
    options?: { cause?: unknown },
  ) {
    super(issues.map((i) => [source, i.path || undefined, i.message].filter((p) => p !== undefined).join(': ')).join('\n'), options);
    this.name = 'ClusterError';
  }
}

function toIssues(issue: ZodIssue): ClusterIssue[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown key' }));
    case 'invalid_type':
      return [{ path, message: issue.received === 'undefined' ? 'required' : `expected ${issue.expected}, got ${issue.received}` }];
    case 'invalid_enum_value':
      return [{ path, message: `expected one of ${issue.options.join(', ')}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

/** Validates an already-parsed cluster object (tests build clusters this way, with free ports). */
export function validateCluster(raw: unknown, source?: string): Cluster {
  const result = clusterSchema.safeParse(raw);
  if (!result.success) throw new ClusterError(result.error.issues.flatMap(toIssues), source);
  // Cross-key rules run on valid fields only: a bad address must not also show up as a bogus port clash.
  const broken = clusterRules(result.data);
  if (broken.length > 0) throw new ClusterError(broken.map((i) => ({ path: formatPath(i.path), message: i.message })), source);
  return result.data;
}

/** Parses and validates cluster TOML. */
export function parseCluster(text: string, source?: string): Cluster {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const what = err.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'syntax error';
    throw new ClusterError([{ path: '', message: `TOML syntax error at line ${err.line}, column ${err.column}: ${what}` }], source, { cause: err });
  }
  return validateCluster(raw, source);
}

export async function loadCluster(file: string): Promise<Cluster> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ClusterError([{ path: '', message: `cannot read cluster file (${code})` }], file, { cause: err });
  }
  return parseCluster(text, file);
}
