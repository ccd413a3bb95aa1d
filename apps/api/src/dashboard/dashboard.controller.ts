import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { UsageLimits } from '#queue';
import { Public } from '../auth/public.decorator.js';
import { ApiError } from '../problems/api-error.js';
import { AdminSession, SESSION_COOKIE } from './admin-session.js';
import { dashboardAssetsDir } from './dashboard-assets.js';

const ASSETS = new Set(['app.js', 'app.css']);
/** Login attempts per client address: a minute's worth, with a small burst. */
const LOGIN_PER_MIN = 10;
const LOGIN_BURST = 5;
const MAX_LOGIN_BYTES = 4096;

/**
 * The dashboard's page and its login. The page holds no data (it asks /dashboard/api for it, with the session
 * cookie), so it is served to anyone; the API-key guard does not apply here and neither do keys.
 */
@ApiExcludeController()
@Public()
@Controller('dashboard')
export class DashboardController {
  private readonly dir = dashboardAssetsDir();

  constructor(private readonly session: AdminSession, private readonly usage: UsageLimits) {}

  @Get()
  page(@Res() res: Response) {
    res.sendFile('index.html', { root: this.dir, headers: { 'cache-control': 'no-cache' } });
  }

  /** The job page is the same single page; it reads the job id from the path. */
  @Get('jobs/:id')
  jobPage(@Res() res: Response) {
    this.page(res);
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response) {
    if (!ASSETS.has(file)) throw new ApiError('not-found', `no dashboard file ${JSON.stringify(file)}`);
    res.sendFile(file, { root: this.dir, headers: { 'cache-control': 'no-cache' } });
  }

  @Post('login')
  @HttpCode(204)
  async login(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const rate = await this.usage.takeRequest(`dashboard-login:${req.ip}`, LOGIN_PER_MIN, LOGIN_BURST, Date.now());
    if (!rate.allowed) {
      const retryAfterS = Math.max(1, Math.ceil(rate.retryAfterMs / 1000));
      throw new ApiError('rate-limited', `too many login attempts; retry in ${retryAfterS} s`, { retryAfterS }, { 'Retry-After': String(retryAfterS) });
    }
    const { user, password } = await readCredentials(req);
    if (!this.session.credentialsMatch(user, password)) throw new ApiError('unauthorized', 'wrong user or password');
    const { token, maxAgeS } = this.session.issue();
    res.setHeader('set-cookie', cookie(token, maxAgeS, req.secure));
  }

  @Post('logout')
  @HttpCode(204)
  logout(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    res.setHeader('set-cookie', cookie('', 0, req.secure));
  }
}

/** HttpOnly (no script reads it), SameSite=Strict (no other site's page can send it: bull-board's actions are POSTs), only under /dashboard. */
function cookie(token: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

/** The login form's JSON body (the API has no body parser: its only other body is a streamed multipart upload). */
async function readCredentials(req: Request): Promise<{ user: string; password: string }> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new ApiError('unsupported-media-type', 'send the login as application/json');
  let body = '';
  for await (const chunk of req) {
    body += (chunk as Buffer).toString('utf8');
    if (body.length > MAX_LOGIN_BYTES) throw new ApiError('request-too-large', `a login is at most ${MAX_LOGIN_BYTES} bytes`);
  }
  try {
    const { user, password } = JSON.parse(body) as { user?: unknown; password?: unknown };
    if (typeof user === 'string' && typeof password === 'string') return { user, password };
  } catch {
    // answered below
  }
  throw new ApiError('bad-request', 'a login is {"user": "…", "password": "…"}');
}
