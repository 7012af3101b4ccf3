import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// Bearer token check in constant time (the token length is not secret).
export function hasBearer(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!m?.[1]) return false;
  const given = Buffer.from(m[1]);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

// Every response: no inline script or style, nothing from another origin, never framed, no sniffing.
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};
