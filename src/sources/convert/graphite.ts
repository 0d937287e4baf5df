/**
 * Graphite plaintext (`<metric> <value> [<timestamp>]`) → line protocol, exactly as InfluxDB 1.6's graphite service
 * converts it (services/graphite parser.go): the metric is matched against the templates' filter tree, the chosen
 * template (default `measurement*`) splits it on `.` into measurement parts, tags and an optional field name, joined
 * with `separator`; template default tags, then the listener's `tags`, fill in tags not set. The value is a Go float
 * (NaN lines are dropped silently by InfluxDB, ±Inf with an error: both dropped here); the timestamp is float
 * seconds (fractions kept), `-1` or absent meaning now; outside 1901-12-13..2038-01-19 the line is dropped.
 *
 * Graphite 1.1 tags (`name;k=v;k2=v2`) are plain name characters to InfluxDB 1.6: they stay in the measurement.
 * With `parseTags` (off by default) they become tags instead: the template applies to the name before the first
 * `;`, and the `;k=v` tags win over template and listener tags.
 */
import { goFields, goInt64, parseGoFloat } from './go-text.js';
import { pointLine, type PointLine } from './influx-point.js';

export interface GraphiteOptions {
  readonly separator: string;
  /** `[filter] <template> [k=v,k2=v2]`, as InfluxDB's `templates`. */
  readonly templates: readonly string[];
  /** `k=v`, as InfluxDB's `tags`. */
  readonly tags: readonly string[];
  readonly parseTags: boolean;
}

const MIN_DATE_NS = -2_147_472_000n * 1_000_000_000n; // 1901-12-13T00:00:00Z
const MAX_DATE_NS = 2_147_472_000n * 1_000_000_000n; // 2038-01-19T00:00:00Z

class Template {
  readonly parts: string[];

  constructor(
    pattern: string,
    readonly defaultTags: ReadonlyMap<string, string>,
    private readonly separator: string,
  ) {
    this.parts = pattern.split('.');
    if (!this.parts.some((p) => p.startsWith('measurement'))) throw new Error(`no measurement specified for template. "${pattern}"`);
  }

  apply(name: string): { measurement: string; tags: Map<string, string>; field: string } | { error: string } {
    const fields = name.split('.');
    const measurement: string[] = [];
    const tags = new Map<string, string[]>();
    let field = '';
    for (const [k, v] of this.defaultTags) tags.set(k, [v]);
    if (this.parts.includes('measurement*') && this.parts.includes('field*')) {
      return { error: "either 'field*' or 'measurement*' can be used in each template (but not both together)" };
    }
    for (let i = 0; i < this.parts.length && i < fields.length; i++) {
      const tag = this.parts[i]!;
      const f = fields[i]!;
      if (tag === 'measurement') measurement.push(f);
      else if (tag === 'field') {
        if (field.length !== 0) return { error: "'field' can only be used once in each template" };
        field = f;
      } else if (tag === 'field*') {
        field = fields.slice(i).join(this.separator);
        break;
      } else if (tag === 'measurement*') {
        measurement.push(...fields.slice(i));
        break;
      } else if (tag !== '') tags.set(tag, [...(tags.get(tag) ?? []), f]);
    }
    const out = new Map<string, string>();
    for (const [k, vs] of tags) out.set(k, vs.join(this.separator));
    return { measurement: measurement.join(this.separator), tags: out, field };
  }
}

/** parser.go's filter tree: exact parts first, then a `*` child; no backtracking. */
class Node {
  children: Node[] = [];
  template: Template | undefined;
  constructor(readonly value: string) {}

  insert(values: string[], t: Template): void {
    if (values.length === 0) {
      this.template = t;
      return;
    }
    const existing = this.children.find((c) => c.value === values[0]);
    if (existing) return existing.insert(values.slice(1), t);
    const node = new Node(values[0]!);
    this.children.push(node);
    this.children.sort((a, b) => (a.value === '*' ? (b.value === '*' ? 0 : 1) : b.value === '*' ? -1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    if (values[0] === '*') node.template = this.template; // inherited at insertion time, as in Go
    node.insert(values.slice(1), t);
  }

  search(parts: string[]): Template | undefined {
    if (parts.length === 0 || this.children.length === 0) return this.template;
    const exact = this.children.find((c) => c.value !== '*' && c.value === parts[0]);
    if (exact) return exact.search(parts.slice(1));
    const last = this.children[this.children.length - 1]!;
    if (last.value === '*') return last.search(parts.slice(1));
    return this.template;
  }
}

function parseTagList(s: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const kv of s.split(',')) {
    const [k, v] = kv.split('=');
    if (k === undefined || v === undefined) throw new Error(`invalid tag "${kv}": expected key=value`);
    tags.set(k, v);
  }
  return tags;
}

export class GraphiteParser {
  private readonly root = new Node('');
  private defaultTemplate: Template;
  private readonly tags: Map<string, string>;

  /** Throws on an invalid template or tag, as InfluxDB refuses to start with one. */
  constructor(private readonly o: GraphiteOptions) {
    this.defaultTemplate = new Template('measurement*', new Map(), o.separator);
    for (const pattern of o.templates) {
      const parts = goFields(pattern);
      if (parts.length === 0) continue;
      if (parts.length > 3) throw new Error(`invalid template format: "${pattern}"`);
      let template = pattern;
      let filter = '';
      if (parts.length >= 2) {
        if (parts[1]!.includes('=')) template = parts[0]!;
        else [filter, template] = [parts[0]!, parts[1]!];
      }
      const last = parts[parts.length - 1]!;
      const t = new Template(template, last.includes('=') ? parseTagList(last) : new Map(), o.separator);
      if (filter.split('.').some((p) => p.includes('*') && p !== '*')) throw new Error(`invalid filter wildcard section: ${filter}`);
      if (filter === '') this.defaultTemplate = t;
      else this.root.insert(filter.split('.'), t);
    }
    this.tags = new Map();
    for (const kv of o.tags) for (const [k, v] of parseTagList(kv)) this.tags.set(k, v);
  }

  /** One line (without its newline); `undefined` for a line InfluxDB skips without a word (empty, NaN value). */
  line(raw: string): PointLine | undefined {
    const fields = goFields(raw);
    if (fields.length === 0) return undefined;
    if (fields.length !== 2 && fields.length !== 3) return { error: `received "${raw}" which doesn't have required fields` };
    let name = fields[0]!;
    let tagged: [string, string][] = [];
    if (this.o.parseTags && name.includes(';')) {
      const [base, ...pairs] = name.split(';');
      name = base!;
      tagged = pairs.flatMap((p) => {
        const eq = p.indexOf('=');
        return eq > 0 ? [[p.slice(0, eq), p.slice(eq + 1)] as [string, string]] : [];
      });
    }
    const applied = (this.root.search(name.split('.')) ?? this.defaultTemplate).apply(name);
    if ('error' in applied) return applied;
    const measurement = applied.measurement === '' ? name : applied.measurement;
    const value = parseGoFloat(fields[1]!);
    if (value === undefined) return { error: `field "${fields[0]}" value: invalid syntax` };
    if (Number.isNaN(value)) return undefined;
    if (!Number.isFinite(value)) return { error: `field "${fields[0]}" value: unsupported value ${value}` };
    let ns: bigint | undefined;
    if (fields.length === 3) {
      const t = parseGoFloat(fields[2]!);
      if (t === undefined) return { error: `field "${fields[0]}" time: invalid syntax` };
      if (t !== -1) {
        // time.Before/After compare the whole time, not its (wrapping) UnixNano.
        ns = goInt64(t) * 1_000_000_000n + goInt64((t - Math.floor(t)) * 1e9);
        if (ns < MIN_DATE_NS || ns > MAX_DATE_NS) return { error: 'timestamp out of range' };
      }
    }
    const tags = applied.tags;
    for (const [k, v] of this.tags) if (!tags.has(k)) tags.set(k, v);
    for (const [k, v] of tagged) tags.set(k, v);
    return pointLine(measurement, tags, applied.field === '' ? 'value' : applied.field, value, ns);
  }
}
