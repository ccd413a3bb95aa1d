import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ResultsResponse } from '#client';
import type { JobRecord } from '#contracts';
import { renderTextImage } from './fixtures/text-images.js';
import { startApi, testEnv, WorkerProcess } from './support/stack.js';

const exec = promisify(execFile);
const cli = join(fileURLToPath(new URL('../', import.meta.url)), 'dist/apps/cli/src/main.js');

describe('gpuq CLI against a running API and worker', () => {
  const env = testEnv(inject('redisUrl'), { WORKER_DEVICE: 'cpu' });
  let api: Awaited<ReturnType<typeof startApi>>;
  let worker: WorkerProcess;
  let pages: string;
  let key: { key: string; record: { id: string } };
  const cwd = mkdtempSync(join(tmpdir(), 'gpuq-cli-cwd-'));

  /** Runs the built CLI as a user would; resolves with exit code, stdout and stderr (a non-zero exit is not thrown). */
  const gpuq = async (args: string[], extra: Record<string, string> = {}) => {
    const cliEnv = { ...process.env, ...env, GPUQ_URL: api.url, ...(key ? { GPUQ_API_KEY: key.key } : {}), ...extra };
    try {
      const { stdout, stderr } = await exec(process.execPath, [cli, ...args], { env: cliEnv, cwd });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    [api, worker] = await Promise.all([startApi(env), WorkerProcess.start(env)]);
    pages = mkdtempSync(join(tmpdir(), 'gpuq-pages-'));
    for (const [i, text] of ['first page', 'second page', 'tenth page'].entries()) {
      const name = ['page-1.png', 'page-2.png', 'page-10.png'][i]!;
      writeFileSync(join(pages, name), (await renderTextImage({ width: 400, height: 140, lines: [{ text, x: 20, y: 80, fontSize: 36 }] })).png);
    }
    writeFileSync(join(pages, 'notes.txt'), 'not a page');
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.app.close();
  });

  it('keys create prints a key once (operators, against Redis)', async () => {
    const created = await gpuq(['keys', 'create', '--tenant', 'cli-user', '--name', 'e2e', '--json']);
    expect(created.code, created.stderr).toBe(0);
    key = JSON.parse(created.stdout);
    expect(key.key).toMatch(/^gpuq_[0-9a-f]{12}_/);
    const listed = await gpuq(['keys', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`${key.record.id}\\s+cli-user\\s+live`));
    expect(listed.stdout).not.toContain(key.key.split('_')[2]);
  });

  it('submit ./pages --wait: uploads the folder in page order, follows it, prints the results', async () => {
    const run = await gpuq(['submit', pages, '--wait', '--model', 'ppocr-v4-det-640', '--allow-cpu']);
    expect(run.code, run.stderr).toBe(0);
    const results = JSON.parse(run.stdout) as ResultsResponse;
    expect(results.state).toBe('completed');
    expect(results.results.map((r) => r.filename)).toEqual(['page-1.png', 'page-2.png', 'page-10.png']);
    expect(results.results.every((r) => 'boxes' in r && r.boxes.length > 0)).toBe(true);
    expect(run.stderr).toMatch(new RegExp(`job ${results.id} completed: 3/3 images in \\d+\\.\\d s`));

    const status = await gpuq(['status', results.id]);
    expect(status.stdout).toMatch(/state\s+completed/);
    expect(status.stdout).toMatch(/progress\s+3\/3 images/);
    expect((JSON.parse((await gpuq(['status', results.id, '--json'])).stdout) as JobRecord).tenant).toBe('cli-user');
    expect((JSON.parse((await gpuq(['results', results.id])).stdout) as ResultsResponse).results).toHaveLength(3);
    expect((await gpuq(['jobs'])).stdout).toContain(results.id);
  });

  it('shows a progress bar on a terminal', async () => {
    // `script` gives the CLI a pseudo-terminal, so it draws its bar as it would for a person.
    const command = `${process.execPath} ${cli} submit ${join(pages, 'page-1.png')} --wait --model ppocr-v4-det-640 --allow-cpu`;
    const { stdout } = await exec('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...env, GPUQ_URL: api.url, GPUQ_API_KEY: key.key }, cwd });
    expect(stdout).toMatch(/[=█]{10,} 1\/1 images \| completed/);
  });

  it('workers, cancel, and refusals with their reasons', async () => {
    const workers = await gpuq(['workers']);
    expect(workers.stdout).toContain(worker.workerId);
    expect(workers.stdout).toMatch(/CPU probed, cpu: fp32/);

    const waiting = await gpuq(['submit', join(pages, 'page-1.png'), '--precision', 'bf16', '--wait-for-capacity']);
    const { id } = JSON.parse(waiting.stdout) as { id: string };
    expect((await gpuq(['cancel', id])).stdout).toBe(`${id}: cancelled: cancelled before it started\n`);

    const cut = join(pages, 'cut.png');
    writeFileSync(cut, (await renderTextImage({ width: 100, height: 50, lines: [] })).png.subarray(0, 60));
    const refused = await gpuq(['submit', cut]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^gpuq: 400 corrupt-image: image 0 \("cut.png"\): png: truncated/);

    const noCapacity = await gpuq(['submit', join(pages, 'page-1.png'), '--precision', 'fp16']);
    expect(noCapacity.code).toBe(1);
    expect(noCapacity.stderr).toMatch(/422 no-capacity/);
    expect(noCapacity.stderr).toMatch(/"reason": "no live gpu worker/);

    expect((await gpuq(['status', 'no-such-job'])).stderr).toMatch(/404 not-found/);
    expect((await gpuq(['submit', join(pages, 'missing')])).code).toBe(2);
    expect((await gpuq(['frobnicate'])).code).toBe(2);
  });

  it('keys revoke: the key stops working at once', async () => {
    const revoked = await gpuq(['keys', 'revoke', key.record.id]);
    expect(revoked.stdout).toMatch(/revoked at/);
    const after = await gpuq(['jobs']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/401 unauthorized: the API key is unknown or revoked/);
    expect((await gpuq(['keys', 'revoke', '000000000000'])).code).toBe(2);
  });
});
