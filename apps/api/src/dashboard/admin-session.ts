import { createHmac, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '#config';
import { CONFIG } from '../tokens.js';

export const SESSION_COOKIE = 'gpuq_admin';
/** A login lasts a working day. */
const SESSION_MS = 12 * 3600_000;

/**
 * The dashboard's own login, apart from API keys: a key belongs to a tenant and sees that tenant's jobs, an
 * operator sees every tenant. A session is a signed cookie (`expiry.signature`), HMAC'd with a key derived from
 * the configured credentials, so every API replica accepts it without shared state and changing the password
 * ends every session.
 */
@Injectable()
export class AdminSession {
  private readonly signingKey: Buffer;
  private readonly password: string;

  constructor(@Inject(CONFIG) private readonly config: Config) {
    // The dashboard module is loaded only with a password (AppModule), so there always is one here.
    if (!config.DASHBOARD_PASSWORD) throw new Error('the dashboard needs DASHBOARD_PASSWORD');
    this.password = config.DASHBOARD_PASSWORD;
    this.signingKey = createHmac('sha256', 'gpuq-dashboard-session').update(`${config.DASHBOARD_USER}\0${this.password}`).digest();
  }

  /** Compares in constant time (over digests, so lengths do not leak either). */
  credentialsMatch(user: string, password: string): boolean {
    const digest = (s: string) => createHmac('sha256', 'gpuq-dashboard-login').update(s).digest();
    const userOk = timingSafeEqual(digest(user), digest(this.config.DASHBOARD_USER));
    const passwordOk = timingSafeEqual(digest(password), digest(this.password));
    return userOk && passwordOk;
  }

  /** A new session token and how long it lives. */
  issue(now = Date.now()): { token: string; maxAgeS: number } {
    const expires = String(now + SESSION_MS);
    return { token: `${expires}.${this.sign(expires)}`, maxAgeS: SESSION_MS / 1000 };
  }

  /** Whether a request's Cookie header carries a live session. */
  verify(cookieHeader: string | undefined, now = Date.now()): boolean {
    const token = cookieOf(cookieHeader, SESSION_COOKIE);
    if (!token) return false;
    const [expires, signature] = token.split('.');
    if (!expires || !signature || !(Number(expires) > now)) return false;
    const expected = Buffer.from(this.sign(expires));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(expires: string): string {
    return createHmac('sha256', this.signingKey).update(expires).digest('base64url');
  }
}

function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
