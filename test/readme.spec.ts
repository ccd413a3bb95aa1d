import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApi, testEnv, WorkerProcess } from './support/stack.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));
const README_URL = 'http://127.0.0.1:8080';
const README_ID = '6f1c…';

/** The commands of the README's "Try it" block, one per entry (continuation lines joined, comment lines dropped). */
function tryItCommands(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Try it'));
  const block = /```bash\n([\s\S]*?)```/.exec(section)![1]!;
  return block.replace(/\\\n\s*/g, '').split('\n').filter((line) => line.trim() && !line.startsWith('#'));
}

/** A JSON line the README shows after a command, with "…" standing for what varies. */
function shownAnswer(): Record<string, unknown> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const line = readme.slice(readme.indexOf('## Try it')).split('\n').find((l) => l.startsWith('# {'))!;
  return JSON.parse(line.slice(2)) as Record<string, unknown>;
}

describe("the README's Try it, run as written against an API and a CPU worker", () => {
  // As npm start leaves things on a machine without a GPU: CPU_FALLBACK on, a key in .data/api-key.
  const env = testEnv(inject('redisUrl'), { WORKER_DEVICE: 'cpu', CPU_FALLBACK: 'true' });
  const cwd = mkdtempSync(join(tmpdir(), 'gpuq-readme-'));
  let api: Awaited<ReturnType<typeof startApi>>;
  let worker: WorkerProcess;

  beforeAll(async () => {
    [api, worker] = await Promise.all([startApi(env), WorkerProcess.start(env)]);
    mkdirSync(join(cwd, '.data'));
    writeFileSync(join(cwd, '.data/api-key'), `${api.key}\n`);
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.app.close();
  });

  /** Runs one README line in bash, in the scratch folder, against the test API. */
  const run = async (command: string, id = '') => {
    const script = `cd ${JSON.stringify(cwd)} && KEY=$(cat .data/api-key) && ${command.replaceAll(README_URL, api.url).replaceAll(README_ID, id).replaceAll('dist/', join(root, 'dist/'))}`;
    return (await exec('bash', ['-c', script], { env: { ...process.env, ...env } })).stdout;
  };

  it('answers every command as the README says', async () => {
    const [samples, keyLine, submitLine, status, events, results, cancel, ...rest] = tryItCommands();
    expect(keyLine).toBe('KEY=$(cat .data/api-key)');
    expect(rest).toEqual([]);
    await run(samples!);

    const accepted = JSON.parse(await run(submitLine!)) as Record<string, unknown> & { id: string };
    const { id: _, precision: shownPrecision, ...shown } = shownAnswer() as { id: string; precision: Record<string, unknown> };
    const { reason: __, ...promise } = shownPrecision;
    expect(accepted).toMatchObject({ ...shown, precision: promise });
    // The same request again under its Idempotency-Key: the same job.
    expect(JSON.parse(await run(submitLine!))).toMatchObject({ id: accepted.id, created: false });

    expect(JSON.parse(await run(status!, accepted.id))).toMatchObject({ id: accepted.id, progress: { total: 2 } });
    const stream = await run(events!, accepted.id);
    expect(stream).toMatch(/^event: job\n/);
    expect(stream).toMatch(/event: end\ndata: \{"state":"completed"/);
    const answer = JSON.parse(await run(results!, accepted.id)) as { results: Record<string, unknown>[] };
    expect(answer.results.map((r) => r.filename)).toEqual(['sample-1.png', 'sample-2.png']);
    expect(answer.results[0]).toMatchObject({ index: 0, precision: 'fp32', precisionSource: 'measured', measured: { computedIn: 'fp32', share: 1, provider: 'CPUExecutionProvider' }, provider: 'cpu', device: 'cpu', workerId: worker.workerId });
    expect(JSON.parse(await run(cancel!, accepted.id))).toMatchObject({ state: 'completed', message: 'job already completed; nothing to cancel' });
  });
});
