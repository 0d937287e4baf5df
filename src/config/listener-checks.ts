/**
 * Checks across listeners and their outputs, run once every key is valid on its own: what would make the relay fail
 * or misbehave at start, so that `-check` catches it. Names become file names under `spool-dir` (file-names.ts), so
 * they must stay distinct as file names; bind addresses must not collide among TCP sockets (`[[http]]` and `[[tcp]]`)
 * nor among UDP sockets.
 */
import type { z } from 'zod';
import { bindsCollide, parseHostPort } from '../net/address.js';
import { deadLetterFileName, spoolDirName } from './file-names.js';
import type { RelayConfig } from './types.js';

type Ctx = z.RefinementCtx;
type Path = (string | number)[];

interface Named {
  readonly path: Path;
  /** How an error names it: `http[0]`, `output[1]`. */
  readonly label: string;
  readonly name: string;
  /** The file (or directory) the name becomes under spool-dir. */
  readonly file: string;
}

function q(s: string): string {
  return JSON.stringify(s);
}

/** Reports each entry whose name equals an earlier one's or maps to the same file; returns the entries involved. */
function uniqueFileNames(entries: readonly Named[], what: string, hint: string, ctx: Ctx): Set<Named> {
  const seen = new Map<string, Named>();
  const involved = new Set<Named>();
  for (const e of entries) {
    const first = seen.get(e.file);
    if (first === undefined) {
      seen.set(e.file, e);
      continue;
    }
    const message =
      first.name === e.name
        ? `duplicate ${what} name ${q(e.name)} (also ${first.label}); ${hint}`
        : `${what} name ${q(e.name)} and ${first.label}'s ${q(first.name)} become the same file name ${q(e.file)} ` +
          'under spool-dir: make them differ in a letter, digit, ".", "_" or "-"';
    ctx.addIssue({ code: 'custom', path: [...e.path, 'name'], message });
    involved.add(first).add(e);
  }
  return involved;
}

/** Output names within one listener (paths relative to the listener). */
export function checkOutputNames(outputs: readonly { name: string }[], ctx: Ctx): void {
  const entries = outputs.map((o, i) => ({ path: ['output', i], label: `output[${i}]`, name: o.name, file: spoolDirName(o.name) }));
  uniqueFileNames(entries, 'output', 'names default to the location', ctx);
}

type Kind = 'http' | 'udp' | 'tcp' | 'opentsdb' | 'graphite';
type Listener = { readonly name: string; readonly bindAddr: string; readonly output: readonly { name: string }[] };

/** Listener names: one spool directory each; then one dead-letter file per backend across listeners. */
function checkListenerNames(c: RelayConfig, ctx: Ctx): void {
  const all = (['http', 'udp', 'tcp', 'opentsdb', 'graphite'] as const).flatMap((kind) =>
    c[kind].map((l: Listener, i) => ({ path: [kind, i], label: `${kind}[${i}]`, name: l.name, file: spoolDirName(l.name), l })),
  );
  const clashing = uniqueFileNames(all, 'listener', 'names default to "<scheme>://<bind-addr>"', ctx);
  // Listener `a.b` with output `c` and listener `a` with output `b.c` would share `a.b.c.lp`.
  const outputs = all
    .filter((e) => !clashing.has(e))
    .flatMap((e) => e.l.output.map((o, i) => ({ path: [...e.path, 'output', i], label: `${e.label}.output[${i}]`, file: deadLetterFileName(e.l.name, o.name) })));
  const seen = new Map<string, string>();
  for (const o of outputs) {
    const first = seen.get(o.file);
    if (first === undefined) seen.set(o.file, o.label);
    else ctx.addIssue({ code: 'custom', path: [...o.path, 'name'], message: `its dead-letter file ${q(o.file)} would also be ${first}'s: rename the output or its listener` });
  }
}

/** Listening sockets of one protocol: two that collide (wildcard, same address, localhost vs loopback) fail at start. */
function checkBindAddrs(c: RelayConfig, kinds: readonly Kind[], ctx: Ctx, udp = false): void {
  const seen: { label: string; addr: string }[] = [];
  for (const kind of kinds) {
    c[kind].forEach((l: Listener & { protocol?: string }, i) => {
      if (kind === 'graphite' && (l.protocol === 'udp') !== udp) return; // a [[graphite]] table is TCP or UDP
      const hp = parseHostPort(l.bindAddr);
      if (hp === undefined) return; // reported by the field itself
      const first = seen.find((s) => bindsCollide(parseHostPort(s.addr)!, hp));
      if (first === undefined) return void seen.push({ label: `${kind}[${i}]`, addr: l.bindAddr });
      const message =
        first.addr.toLowerCase() === l.bindAddr.toLowerCase()
          ? `${q(l.bindAddr)} is already used by ${first.label}`
          : `${q(l.bindAddr)} overlaps ${first.label}'s ${q(first.addr)}: both cannot listen on port ${hp.port} ` +
            '(an empty host, 0.0.0.0 or [::] takes every interface; localhost is 127.0.0.1 or [::1])';
      ctx.addIssue({ code: 'custom', path: [kind, i, 'bind-addr'], message });
    });
  }
}

export function checkListeners(c: RelayConfig, ctx: Ctx): void {
  if (c.http.length + c.udp.length + c.tcp.length + c.opentsdb.length + c.graphite.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'no listeners: add at least one [[http]], [[udp]], [[tcp]], [[opentsdb]] or [[graphite]] table' });
  }
  // HTTP, raw TCP, OpenTSDB and Graphite-over-TCP listeners take TCP ports; UDP ports are a namespace of their own.
  checkBindAddrs(c, ['http', 'tcp', 'opentsdb', 'graphite'], ctx);
  checkBindAddrs(c, ['udp', 'graphite'], ctx, true);
  checkListenerNames(c, ctx);
}
