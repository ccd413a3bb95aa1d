import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { Config } from '#config';

/**
 * Security headers on every answer (helmet: no sniffing, no framing, HSTS, a CSP that still lets /docs load
 * its own scripts), and CORS only for the origins CORS_ORIGINS names.
 */
export function harden(app: NestExpressApplication, config: Config): void {
  // No upgrade-insecure-requests: the API is often served over plain http on a private network, where upgrading
  // /docs's own scripts to https would break the page.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  if (config.CORS_ORIGINS.length > 0) {
    app.enableCors({
      origin: config.CORS_ORIGINS.includes('*') ? '*' : config.CORS_ORIGINS,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['Authorization', 'X-API-Key', 'Content-Type', 'Idempotency-Key'],
      exposedHeaders: ['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining'],
      maxAge: 600,
    });
  }
}
