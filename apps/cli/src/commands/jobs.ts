import type { Command } from 'commander';
import type { JobRecord } from '#contracts';
import type { Config } from '#config';
import { apiClient, type ApiOptions } from '../api-client.js';

interface OutputOptions extends ApiOptions {
  json?: boolean;
}

/** `status`, `results`, `cancel`, `jobs`: one job or your recent ones. */
export function jobCommands(program: Command, config: Config): void {
  program
    .command('status')
    .description('state, progress, precision and the latest events of a job')
    .argument('<id>')
    .option('--json', 'the whole job record as JSON')
    .action(async (id: string, options: OutputOptions) => {
      const job = await apiClient(config, options).job(id);
      console.log(options.json ? JSON.stringify(job, null, 2) : describeJob(job));
    });

  program
    .command('results')
    .description('per image: text boxes, scores, and the precision and provider that ran it (JSON)')
    .argument('<id>')
    .action(async (id: string, options: ApiOptions) => {
      console.log(JSON.stringify(await apiClient(config, options).results(id), null, 2));
    });

  program
    .command('cancel')
    .description('cancel a job: a queued one at once, a running one at its next micro-batch')
    .argument('<id>')
    .action(async (id: string, options: ApiOptions) => {
      const answer = await apiClient(config, options).cancel(id);
      console.log(`${answer.id}: ${answer.state}: ${answer.message}`);
    });

  program
    .command('jobs')
    .description('your recent jobs, newest first')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'as JSON')
    .action(async (options: OutputOptions & { limit: string }) => {
      const jobs = await apiClient(config, options).jobs(Number(options.limit));
      if (options.json) return console.log(JSON.stringify(jobs, null, 2));
      for (const j of jobs) console.log(`${j.id}  ${j.state.padEnd(20)} ${j.progress.done}/${j.progress.total}  ${j.model}  ${j.precision.promised}  ${j.createdAt}`);
    });
}

function describeJob(job: JobRecord): string {
  const lines = [
    `job       ${job.id}`,
    `state     ${job.state}${job.error ? ` (${job.error.code}: ${job.error.message})` : ''}`,
    `progress  ${job.progress.done}/${job.progress.total} images${job.progress.failed ? ` (${job.progress.failed} could not be read: see results)` : ''}`,
    `model     ${job.model} in ${job.precision.used ?? job.precision.promised} (${job.precision.policy}: ${job.precision.reason})`,
    `class     ${job.className}`,
    `created   ${job.createdAt}${job.finishedAt ? `, finished ${job.finishedAt}` : ''}`,
  ];
  for (const e of job.events.slice(-5)) lines.push(`  ${e.at} ${e.kind}: ${e.message}`);
  return lines.join('\n');
}
