import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The dashboard's page, script and styles: plain files in apps/api/public/dashboard, served as they are (no
 * bundler). Found from the package root, so the same lookup works from the sources (tests) and from dist/.
 */
export function dashboardAssetsDir(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'apps/api/public/dashboard');
  }
  throw new Error(`no package.json above ${from}: cannot find the dashboard's files`);
}
