import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../problems/api-error.js';
import { AdminSession } from './admin-session.js';

/**
 * The dashboard's data needs an operator's session cookie. An API key (Authorization, X-API-Key) is not looked
 * at: no tenant's key opens a view of every tenant.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly session: AdminSession) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (this.session.verify(req.headers.cookie)) return true;
    throw new ApiError('unauthorized', 'the dashboard needs an operator login (POST /dashboard/login); API keys do not open it');
  }
}
