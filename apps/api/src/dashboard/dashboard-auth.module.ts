import { Module } from '@nestjs/common';
import { AdminGuard } from './admin.guard.js';
import { AdminSession } from './admin-session.js';

/** The operator login, shared by the dashboard's pages, its data and bull-board. */
@Module({
  providers: [AdminSession, AdminGuard],
  exports: [AdminSession, AdminGuard],
})
export class DashboardAuthModule {}
