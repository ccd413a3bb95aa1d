/**
 * `npm start`: Redis (started here if none answers and redis-server is installed), the API and one worker,
 * as child processes. Ctrl-C or SIGTERM stops them in order: worker and API drain, then Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfig } from '#config';
import { redisAnswers, redisServerOnPath, startLocalRedis } from './local-redis.js';

const log = createLogger('start');
const config = loadConfig();
const dist = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const children: ChildProcess[] = [];
let redis: ChildProcess | undefined;
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.all(children.filter((c) => c.exitCode === null).map((c) => new Promise((r) => {
      c.once('exit', r);
      c.kill('SIGTERM');
    })));
    if (redis && redis.exitCode === null) {
      await new Promise((r) => {
        redis!.once('exit', r);
        redis!.kill('SIGTERM');
      });
    }
  }
  process.exit(code);
}

function launch(name: string, path: string): ChildProcess {
  const child = spawn(process.execPath, [dist(path)], { stdio: 'inherit', env: process.env });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    log.error({ process: name, code, signal }, `${name} exited; stopping the rest`);
    void stopAll(code ?? 1);
  });
  children.push(child);
  return child;
}

if (!(await redisAnswers(config.REDIS_URL))) {
  if (!config.START_REDIS || !redisServerOnPath()) {
    log.fatal(
      `no Redis answers at REDIS_URL=${config.REDIS_URL}${config.START_REDIS ? ' and redis-server is not installed' : ' (START_REDIS=false)'}. ` +
        'Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or point REDIS_URL at a running Redis 7+.',
    );
    process.exit(1);
  }
  redis = await startLocalRedis(config.REDIS_URL, '.data/redis');
  log.info({ url: config.REDIS_URL, dir: '.data/redis' }, 'started a local redis-server (AOF on, noeviction)');
}

launch('api', 'apps/api/src/main.js');
launch('worker', 'apps/worker/src/main.js');
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
