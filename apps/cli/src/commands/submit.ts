import { openAsBlob } from 'node:fs';
import type { Command } from 'commander';
import { GpuqApiError, type GpuqClient, type ResultsResponse } from '#client';
import { TERMINAL_STATES } from '#contracts';
import type { Config } from '#config';
import { apiClient, type ApiOptions } from '../api-client.js';
import { collectImages, uploadName } from '../collect-images.js';
import { Progress } from '../progress.js';

interface SubmitOptions extends ApiOptions {
  model?: string;
  precision?: string;
  priority?: string;
  allowCpu?: boolean;
  waitForCapacity?: boolean;
  webhook?: string;
  idempotencyKey?: string;
  wait?: boolean;
}

/** How often a lost event stream is reopened before the command gives up. */
const STREAM_RETRIES = 10;

export function submitCommand(program: Command, config: Config): void {
  program
    .command('submit')
    .description('submit images (files, or folders of them) as one job; --wait shows progress and prints the results')
    .argument('<paths...>', 'image files or folders')
    .option('--model <id>', 'model id (GET /v1/models)')
    .option('--precision <policy>', 'auto, bf16, fp16 or fp32')
    .option('--priority <0-10>', 'higher runs first')
    .option('--allow-cpu', 'accept the CPU as a last resort (default: the server\'s CPU_FALLBACK)')
    .option('--wait-for-capacity', 'queue it even if no live worker can run it now')
    .option('--webhook <url>', 'POSTed, signed, when the job finishes')
    .option('--idempotency-key <key>', 'resubmitting with the same key returns the first job')
    .option('--wait', 'wait for the job with a progress bar, then print its results')
    .action(async (paths: string[], options: SubmitOptions) => {
      const api = apiClient(config, options);
      const files = await collectImages(paths);
      const images = await Promise.all(files.map(async (path) => ({ name: uploadName(path), data: await openAsBlob(path) })));
      const fields = {
        model: options.model, precision: options.precision, priority: options.priority, webhookUrl: options.webhook,
        allowCpu: options.allowCpu ? 'true' : undefined, waitForCapacity: options.waitForCapacity ? 'true' : undefined,
      };
      const { status, body } = await api.submit(images, fields, options.idempotencyKey ? { 'Idempotency-Key': options.idempotencyKey } : {});
      if (status !== 202) throw new GpuqApiError(body as never);
      if (!options.wait) {
        console.log(JSON.stringify(body, null, 2));
        return;
      }
      console.error(`job ${body.id}: ${images.length} image${images.length === 1 ? '' : 's'}, ${body.state} in ${body.className} (${body.precision.promised})`);
      const results = await follow(api, body.id as string);
      console.log(JSON.stringify(results, null, 2));
      if (results.state !== 'completed') process.exitCode = 1;
    });
}

/** Follows the job's event stream with a progress bar until it ends (reopening the stream if it drops), then reads its results. */
async function follow(api: GpuqClient, id: string): Promise<ResultsResponse> {
  const progress = new Progress();
  let failures = 0;
  let finished = false;
  try {
    while (!finished) {
      try {
        for await (const e of api.watch(id)) {
          if (e.event === 'job') progress.update(e.data.progress.done, e.data.progress.total, e.data.state);
          if (e.event === 'progress') progress.update(e.data.done, e.data.total, e.data.state);
          if (e.event === 'end') finished = true;
        }
        if (!finished) finished = TERMINAL_STATES.has((await api.job(id)).state);
      } catch (err) {
        if (err instanceof GpuqApiError || ++failures > STREAM_RETRIES) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  } finally {
    progress.stop();
  }
  const job = await api.job(id);
  const seconds = job.timings?.runMs !== undefined ? ` in ${(job.timings.runMs / 1000).toFixed(1)} s` : '';
  const unread = job.progress.failed ? `, ${job.progress.failed} could not be read` : '';
  console.error(`job ${id} ${job.state}: ${job.progress.done}/${job.progress.total} images${unread}${seconds}${job.error ? ` (${job.error.code}: ${job.error.message})` : ''}`);
  return api.results(id);
}
