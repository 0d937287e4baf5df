/**
 * What the relay's status page and the cluster page share: one stylesheet and a few formatting functions, inlined
 * into each page (no external assets: the pages work on a host with no Internet and behind any proxy).
 * States are colours: green up/fresh, amber catching up or quarantined, red down.
 */
export const PAGE_CSS = `
:root { --ok: #1a7f37; --warn: #b35900; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.2rem 1.6rem; color: #1f2328; background: #fff; }
h1 { font-size: 1.35rem; margin: 0 0 .2rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
.sub { color: var(--muted); margin-bottom: .6rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; min-width: 5.5rem; text-align: center; padding: .1rem .5rem; border-radius: 1rem; color: #fff; font-weight: 600; font-size: .8rem; }
.ok { background: var(--ok); } .warn { background: var(--warn); } .bad { background: var(--bad); } .unknown { background: var(--muted); }
tr.r-bad { background: #ffebe9; } tr.r-warn { background: #fff8c5; }
tr.r-bad td:first-child { border-left: 5px solid var(--bad); } tr.r-warn td:first-child { border-left: 5px solid var(--warn); }
tr.r-ok td:first-child { border-left: 5px solid var(--ok); }
.err { color: var(--bad); font-size: .85rem; max-width: 32rem; word-break: break-word; }
.banner { padding: .5rem .8rem; border-radius: .4rem; margin: .6rem 0; font-weight: 600; }
.banner.bad { color: #fff; } .banner.ok { color: #fff; } .banner.warn { color: #fff; }
.muted { color: var(--muted); }
`;

/** Browser-side helpers, as script text: esc (HTML-escape), bytes, age (ms), rate (per second), cls (state → colour class), rowCls (the same for a table row), badge. */
export const PAGE_JS_HELPERS = `
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const bytes = (n) => { if (n == null) return '–'; const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB']; let i = 0; while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; } return (i ? n.toFixed(1) : n) + ' ' + u[i]; };
const age = (ms) => { if (ms == null) return '–'; if (ms < 1000) return ms + ' ms'; const s = ms / 1000; if (s < 120) return s.toFixed(1) + ' s'; if (s < 7200) return (s / 60).toFixed(1) + ' min'; return (s / 3600).toFixed(1) + ' h'; };
const rate = (r) => r == null ? '–' : r < 10 ? r.toFixed(1) + '/s' : Math.round(r).toLocaleString('en') + '/s';
const cls = (state) => ({ up: 'ok', UP: 'ok', fresh: 'ok', 'catching-up': 'warn', quarantined: 'warn', down: 'bad', DOWN: 'bad', MAINT: 'warn', DRAIN: 'warn', stale: 'warn' })[state] ?? 'unknown';
const rowCls = (state) => 'r-' + cls(state);
const badge = (state, label) => '<span class="badge ' + cls(state) + '">' + esc(label ?? state) + '</span>';
`;

/** Headers for a page: nothing but its own inline style and script may run, and it may fetch only its own origin. */
export const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
} as const;

/** One self-contained page: the stylesheet, a body, and a script that fills it. */
export function page(title: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${PAGE_CSS}</style></head>
<body>${body}
<script>
"use strict";
${PAGE_JS_HELPERS}
${script}
</script></body></html>
`;
}
