import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Programs the tests run for real, and the Debian package that brings each. */
const TOOLS: Record<string, string> = {
  'redis-server': 'redis-server',
  'docker-compose': 'docker-compose',
  chromium: 'chromium',
  prometheus: 'prometheus',
  promtool: 'prometheus',
};

const onPath = (command: string) => (process.env.PATH ?? '').split(delimiter).some((dir) => {
  try {
    accessSync(join(dir, command), constants.X_OK);
    return true;
  } catch {
    return false;
  }
});

/**
 * Before any test: a machine without a program the tests need stops here with one line saying what to install,
 * instead of a spawn ENOENT in the middle of a run (.ci/run installs them on a fresh machine).
 */
export default function requireTools(): void {
  const missing = Object.keys(TOOLS).filter((command) => !onPath(command));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((command) => TOOLS[command]!))];
  console.error(`npm test needs ${missing.join(', ')}: install with \`apt-get install -y ${packages.join(' ')}\` (or run .ci/run, which does)`);
  process.exit(1);
}
