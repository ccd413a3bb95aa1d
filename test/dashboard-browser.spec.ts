import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { renderTextImage, sampleImages } from './fixtures/text-images.js';
import { launchChromium } from './support/browser.js';
import { startApi, submit, testEnv, waitForJob, WorkerProcess } from './support/stack.js';

const T4 = { name: 'Tesla T4', computeCapability: 7.5, totalGb: 16, precisions: ['fp16', 'fp32'] };
const A100 = { name: 'NVIDIA A100-SXM4-80GB', computeCapability: 8.0, totalGb: 80, precisions: ['bf16', 'fp16', 'fp32'] };
const PASSWORD = 'operators-only-password';
/** `UPDATE_SCREENSHOTS=1 npx vitest run test/dashboard-browser.spec.ts` refreshes the pictures in docs/ (the README shows them). */
const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const shots = mkdtempSync(join(tmpdir(), 'gpuq-shots-'));

async function screenshot(page: Page, name: string): Promise<void> {
  const path = join(shots, name);
  await page.screenshot({ path, fullPage: true });
  if (process.env.UPDATE_SCREENSHOTS === '1') copyFileSync(path, join(docs, name));
}

describe('the operators\' dashboard in real headless Chromium', () => {
  const env = testEnv(inject('redisUrl'), { DASHBOARD_PASSWORD: PASSWORD });
  let api: Awaited<ReturnType<typeof startApi>>;
  let workers: WorkerProcess[] = [];
  let browser: Browser;
  let page: Page;
  let finished: { id: string; className: string } | undefined;

  beforeAll(async () => {
    [api, browser, ...workers] = await Promise.all([
      startApi(env),
      launchChromium(),
      WorkerProcess.start({ ...env, WORKER_DECLARE: JSON.stringify(T4) }),
      WorkerProcess.start({ ...env, WORKER_DECLARE: JSON.stringify(A100) }),
    ]);
    // A laptop's screen.
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(workers.map((w) => w.stop()));
    await api?.app.close();
  });

  it('logs in and shows both workers with their declared GPUs, memory bars and classes', async () => {
    await page.goto(`${api.url}/dashboard`);
    await page.fill('#password', 'not the password');
    await page.click('#login button[type=submit]');
    await expect.poll(() => page.textContent('#login-error')).toMatch(/wrong user or password/);
    await page.fill('#password', PASSWORD);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('article.worker >> nth=1');
    const cards = page.locator('article.worker');
    expect(await cards.count()).toBe(2);
    const t4 = cards.filter({ hasText: 'Tesla T4' });
    const a100 = cards.filter({ hasText: 'NVIDIA A100-SXM4-80GB' });
    await expect.poll(() => t4.textContent()).toMatch(/compute capability 7\.5/);
    expect(await t4.textContent()).toMatch(/declared/);
    expect(await t4.textContent()).toContain('gpu-fp16-16g');
    expect(await a100.textContent()).toMatch(/compute capability 8/);
    expect(await a100.textContent()).toContain('bf16 proven');
    expect(await a100.textContent()).toMatch(/of 80\.0 GB/);
    expect(await page.locator('#classes tr[data-class="gpu-bf16-80g"]').count()).toBe(1);
    expect(await page.locator('#live').textContent()).toBe('live');
    await screenshot(page, 'dashboard-fleet.png');
  });

  it('shows a submitted job finish live, and its page: placements, batch sizes, timings, memory, precision, boxes', async () => {
    const images = await Promise.all(sampleImages().map(renderTextImage));
    const accepted = await submit(api.url, images.map((r, i) => ({ name: `page-${i + 1}.png`, data: r.png })), { precision: 'fp16' });
    expect(accepted.status).toBe(202);
    const id = accepted.body.id as string;
    // The list updates by itself (server-sent events): no reload.
    const row = page.locator(`#jobs tr[data-job="${id}"]`);
    await row.waitFor({ timeout: 30_000 });
    await expect.poll(() => row.textContent(), { timeout: 120_000, interval: 500 }).toMatch(/completed/);
    expect(await row.textContent()).toContain('3/3');

    await row.locator('a').click();
    await page.waitForURL(`**/dashboard/jobs/${id}`);
    await expect.poll(() => page.textContent('#job-title')).toMatch(/completed/);
    const job = await waitForJob(api.url, id);
    finished = { id, className: job.placements[0]!.className };
    expect(await page.textContent('#precision-used')).toMatch(/fp32 \(declared\)/);
    expect(await page.textContent('#batch-sizes')).toMatch(/\d/);
    expect(await page.textContent('main')).toContain(job.placements[0]!.className);
    expect(await page.textContent('main')).toMatch(/memory predicted[\s\S]*GB/);
    // Every image is shown with the boxes the worker found drawn on it.
    expect(await page.locator('figure[data-image]').count()).toBe(3);
    expect(await page.locator('figure[data-image] polygon').count()).toBeGreaterThanOrEqual(3);
    for (const img of await page.locator('figure img').all()) {
      await expect.poll(() => img.evaluate((el) => { const image = el as unknown as { complete: boolean; naturalWidth: number }; return image.complete && image.naturalWidth > 0; })).toBe(true);
    }
    await screenshot(page, 'dashboard-job.png');

    // Logs are JSON lines only, and each line of the job's life names the job and the worker.
    const lines = workers.flatMap((w) => w.lines.map((line) => ({ worker: w.workerId, entry: JSON.parse(line) as { jobId?: string; workerId?: string; msg: string } })));
    const ofJob = lines.filter((l) => l.entry.jobId === id);
    expect(ofJob.map((l) => l.entry.msg)).toEqual(expect.arrayContaining(['job completed', 'placement finished']));
    for (const { worker, entry } of lines.filter((l) => l.entry.jobId)) expect(entry.workerId, entry.msg).toBe(worker);
  });

  it('opens bull-board on the class queues behind the same login', async () => {
    expect(finished).toBeDefined();
    // A placement is removed from its queue when its delivery ends (the job record keeps its history), so the
    // board shows the queues' live work; here the class the finished job ran in, empty again.
    await page.goto(`${api.url}/dashboard/queues/queue/${finished!.className}`);
    await page.getByText(finished!.className).first().waitFor({ timeout: 30_000 });
    const board = await page.evaluate(async () => (await fetch('/dashboard/queues/api/queues')).json()) as { queues: Array<{ name: string }> };
    expect(board.queues.map((q) => q.name)).toContain(finished!.className);
    await screenshot(page, 'dashboard-queues.png');
  });
});
