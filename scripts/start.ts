/**
 * `npm start`: Redis (started here if none answers and redis-server is installed), the API and one worker,
 * as child processes. Ctrl-C or SIGTERM stops them in order: worker and API drain, then Redis.
 * On a machine without a GPU it turns CPU_FALLBACK on (unless set), and it leaves an API key for this machine
 * in .data/api-key, so the README's first request works as written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfig, LOCAL_KEY_FILE } from '#config';
import { NvidiaSmi } from '#device';
import { ensureLocalKey } from './local-key.js';
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

function launch(name: string, path: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [dist(path)], { stdio: 'inherit', env });
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

const env = { ...process.env };
if (process.env.CPU_FALLBACK === undefined || process.env.CPU_FALLBACK === '') {
  const gpus = config.WORKER_DEVICE === 'cpu' ? [] : await new NvidiaSmi().listGpus();
  if (gpus.length === 0) {
    env.CPU_FALLBACK = 'true';
    log.info(`no GPU here (${config.WORKER_DEVICE === 'cpu' ? 'WORKER_DEVICE=cpu' : 'nvidia-smi lists none'}): CPU_FALLBACK=true, so jobs run on the CPU in fp32 `
      + 'unless they ask for bf16 or fp16 (set CPU_FALLBACK=false to refuse them instead)');
  }
}
const key = await ensureLocalKey(config);
log.info({ tenant: key.tenant, file: LOCAL_KEY_FILE }, key.created
  ? `created an API key for tenant ${key.tenant} in ${LOCAL_KEY_FILE} (send it as "Authorization: Bearer $(cat ${LOCAL_KEY_FILE})"; the gpuq CLI reads it from there)`
  : `API key for tenant ${key.tenant} in ${LOCAL_KEY_FILE}`);
launch('api', 'apps/api/src/main.js', env);
launch('worker', 'apps/worker/src/main.js', env);
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
