/**
 * Credential redaction for any text that leaves a component: log lines, `/health`'s `lastError`, an answer relayed to
 * a client. One function, `redactCredentials`, for free text (a backend's error body may echo the request line and
 * headers); `redactUrl` is the same rules applied to a URL.
 *
 * What is removed, whatever the surrounding text:
 * - `user:pass@` in a URL (`http://u:p@host` → `http://[redacted]@host`);
 * - the value of a credential query or form parameter: `u`, `p`, `password`, `token` (also percent-encoded: `%26p%3D`);
 * - the value of an `Authorization:`/`Proxy-Authorization:` header, and of those keys in JSON;
 * - what follows the scheme words `Basic`, `Bearer` and `Token` (an Authorization value quoted on its own).
 */

const CENSOR = '[redacted]';

/** Query/form parameters that carry credentials in InfluxDB's APIs (1.x `u`/`p`, 2.x `token`) and common proxies. */
const CREDENTIAL_PARAMS = ['u', 'p', 'password', 'token'] as const;

const PARAM = CREDENTIAL_PARAMS.join('|');

const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // scheme://user:pass@host — userinfo cannot hold a raw '/', '@', '?', '#' or whitespace.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi, `$1${CENSOR}@`],
  // ?p=secret, &u=alice, ;token=x, or ` p=x` in a log line — the value runs to the next separator, quote or space.
  [new RegExp(`((?:^|[?&;\\s])(?:${PARAM})=)[^&;#\\s"'<>]*`, 'gi'), `$1${CENSOR}`],
  // The same in a percent-encoded URL: %3Fp%3Dsecret, %26u%3Dalice.
  [new RegExp(`((?:%3F|%26)(?:${PARAM})%3D)(?:(?!%26)[^&\\s"'<>])*`, 'gi'), `$1${CENSOR}`],
  // JSON: "p":"secret", "authorization":["Basic ..."] (a backend echoing its parsed request).
  [new RegExp(`("(?:${PARAM}|authorization|proxy-authorization)"\\s*:\\s*\\[?\\s*")(?:[^"\\\\]|\\\\.)*`, 'gi'), `$1${CENSOR}`],
  // Authorization: Basic dXNlcjpwYXNz — the whole value, to the end of the line or a quote.
  [/(\b(?:proxy-)?authorization\s*[:=]\s*)[^\r\n"',;]*/gi, `$1${CENSOR}`],
  // A scheme and its credentials quoted on their own.
  [/\b(Basic|Bearer|Token)\s+(?!\[redacted\])[A-Za-z0-9+/=._~:%-]+/g, `$1 ${CENSOR}`],
];

/** `text` with every credential the rules above know replaced by `[redacted]`. */
export function redactCredentials(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}

/** Strips credentials from a URL for logs: `http://u:p@h/write?u=x&p=y` → `http://h/write?u=[redacted]&p=[redacted]`. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return redactCredentials(raw);
  }
  url.username = '';
  url.password = '';
  return redactCredentials(url.toString());
}
