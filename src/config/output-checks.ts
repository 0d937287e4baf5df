/**
 * Cross-key checks of one HTTP output, run once every key is valid on its own. Paths are relative to the output, so
 * an error reads `http[0].output[1].token: required when type = "v2"`.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import type { HttpOutputConfig } from './types.js';

type Ctx = z.RefinementCtx;

function issue(ctx: Ctx, key: string, message: string): void {
  ctx.addIssue({ code: 'custom', path: [key], message });
}

export function checkHttpOutput(o: HttpOutputConfig, ctx: Ctx): void {
  if (o.initialDelayIntervalMs > o.maxDelayIntervalMs) issue(ctx, 'initial-delay-interval', 'must not exceed max-delay-interval');
  if ((o.httpUser === undefined) !== (o.httpPass === undefined)) {
    issue(ctx, o.httpUser === undefined ? 'http-user' : 'http-pass', 'http-user and http-pass must be set together');
  }
  checkUrlCredentials(o, ctx);
  if (o.type === 'v2') checkV2(o, ctx);
  else checkV1(o, ctx);
  checkTls(o, ctx);
}

/** Credentials in the URL are percent-decoded when the backend is built: a bad escape must fail here, not at start. */
function checkUrlCredentials(o: HttpOutputConfig, ctx: Ctx): void {
  const url = new URL(o.location);
  for (const [part, value] of [['user', url.username], ['password', url.password]] as const) {
    try {
      decodeURIComponent(value);
    } catch {
      // The value itself is not shown: it is a credential.
      issue(ctx, 'location', `the ${part} in the URL is not valid percent-encoding (write a literal "%" as %25)`);
    }
  }
}

function checkV2(o: HttpOutputConfig, ctx: Ctx): void {
  if (o.org === undefined) issue(ctx, 'org', 'required when type = "v2"');
  if (o.token === undefined) issue(ctx, 'token', 'required when type = "v2"');
  const url = new URL(o.location);
  const path = url.pathname;
  if (path !== '/' && path !== '' && !path.endsWith('/api/v2/write')) {
    issue(ctx, 'location', `a type = "v2" output needs the origin (${url.origin}) or a URL ending in /api/v2/write, not ${JSON.stringify(path)}`);
  }
  // A 2.x backend authenticates the token; silently dropping other credentials would hide a misconfiguration.
  if (url.username !== '' || url.password !== '') issue(ctx, 'location', 'a type = "v2" output authenticates with token, not credentials in the URL');
  if (o.httpUser !== undefined) issue(ctx, 'http-user', 'a type = "v2" output authenticates with token, not http-user/http-pass');
}

function checkV1(o: HttpOutputConfig, ctx: Ctx): void {
  for (const [key, value] of [['org', o.org], ['bucket', o.bucket], ['token', o.token]] as const) {
    if (value !== undefined) issue(ctx, key, 'only for type = "v2" outputs');
  }
  if (new URL(o.location).pathname.endsWith('/api/v2/write')) {
    issue(ctx, 'location', 'this is a 2.x write URL: set type = "v2" (with org and token), or use the 1.x /write URL');
  }
}

function checkTls(o: HttpOutputConfig, ctx: Ctx): void {
  if (o.caFile === undefined) return;
  if (!o.location.toLowerCase().startsWith('https:')) return issue(ctx, 'ca-file', 'needs an https:// location');
  if (o.skipTlsVerification) return issue(ctx, 'ca-file', 'set ca-file or skip-tls-verification, not both');
  const problem = caFileProblem(o.caFile);
  if (problem !== undefined) issue(ctx, 'ca-file', problem);
}

/** Why a CA file cannot be used, or undefined. Checked at load so `-check` catches it, not the first write. */
function caFileProblem(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return `cannot read ${JSON.stringify(path)}: ${(err as Error).message}`;
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) return `${JSON.stringify(path)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
  return undefined;
}
