// docs/cluster.md lists every key of the cluster schema with its default; this fails when the two drift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { clusterSchema } from '../../../src/haproxy/cluster.js';
import { repoRoot } from './haproxy-bin.js';

interface Key {
  readonly path: string;
  /** The default as TOML would spell it, when the schema has one. */
  readonly fallback?: string;
}

function tomlValue(v: unknown): string | undefined {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Walks the schema down to its leaves: `relays[].name`, `http.bind`, `maxconn`, ... */
function keys(schema: z.ZodTypeAny, path: string, fallback?: unknown): Key[] {
  if (schema instanceof z.ZodEffects) return keys(schema.innerType(), path, fallback);
  if (schema instanceof z.ZodOptional) return keys(schema.unwrap(), path, fallback);
  if (schema instanceof z.ZodDefault) return keys(schema.removeDefault(), path, schema._def.defaultValue());
  if (schema instanceof z.ZodArray) return keys(schema.element, `${path}[]`);
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape as Record<string, z.ZodTypeAny>).flatMap(([k, v]) => keys(v, path === '' ? k : `${path}.${k}`));
  }
  const text = tomlValue(fallback);
  return [text === undefined ? { path } : { path, fallback: text }];
}

test('docs/cluster.md has a row for every cluster key, showing its default', async () => {
  const doc = await readFile(join(repoRoot(), 'docs/cluster.md'), 'utf8');
  const all = keys(clusterSchema, '');
  assert.ok(all.length > 25, `only ${all.length} keys found: the schema walk is broken`);
  for (const key of all) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${key.path}\` |`));
    assert.ok(row, `docs/cluster.md has no row for ${key.path}`);
    if (key.fallback !== undefined) assert.ok(row.includes(`\`${key.fallback}\``), `docs/cluster.md: ${key.path} should show default ${key.fallback}`);
  }
});
