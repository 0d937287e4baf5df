/** Credentials out of any text a backend or proxy sent back (it may echo our request line or headers). */
const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/([?&;\s](?:u|p|password|token)=)[^&\s"';]*/gi, '$1[redacted]'],
  [/((?:authorization|proxy-authorization)\s*[:=]\s*)("?)[^"\r\n,}]*/gi, '$1$2[redacted]'],
  [/\b(Basic|Bearer|Token)\s+[A-Za-z0-9+/=._:~-]+/g, '$1 [redacted]'],
  [/(\/\/)[^/@\s:]*:[^/@\s]*@/g, '$1[redacted]@'],
];

export function redactText(text: string): string {
  let out = text;
  for (const [re, by] of PATTERNS) out = out.replace(re, by);
  return out;
}
