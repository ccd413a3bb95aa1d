#!/usr/bin/env node
/**
 * gpuq command line. `npx gpuq <command>` (or `npm run gpuq -- <command>`); `gpuq --help` lists them.
 *   For people, against the API (GPUQ_URL, GPUQ_API_KEY, else the key npm start left in .data/api-key):
 *     submit <files|folders…> [--wait], status, results, cancel, jobs, workers
 *   For operators, against Redis (REDIS_URL): keys create | revoke | list
 *   On a worker's machine (its environment): probe, calibrate, profiles
 * Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 a usage error.
 */
import { Command, CommanderError } from 'commander';
import { GpuqApiError } from '#client';
import { loadConfig } from '#config';
import { UsageError } from './api-client.js';
import { calibrationCommands } from './commands/calibrate.js';
import { jobCommands } from './commands/jobs.js';
import { keysCommand } from './commands/keys.js';
import { submitCommand } from './commands/submit.js';
import { workersCommand } from './commands/workers.js';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<void> {
  const config = loadConfig();
  const program = new Command('gpuq')
    .description('gpuq: submit images for GPU inference, follow and fetch results, manage keys and memory profiles')
    .option('--url <url>', `the API (default GPUQ_URL, ${config.GPUQ_URL})`)
    .option('--api-key <key>', 'the API key (default GPUQ_API_KEY, else .data/api-key)')
    .showHelpAfterError()
    .exitOverride();
  // Global options reach every command's action through its own options.
  program.hook('preAction', (_, command) => {
    const { url, apiKey } = program.opts<{ url?: string; apiKey?: string }>();
    if (url) command.setOptionValue('url', url);
    if (apiKey) command.setOptionValue('apiKey', apiKey);
  });
  submitCommand(program, config);
  jobCommands(program, config);
  workersCommand(program, config);
  keysCommand(program, config);
  calibrationCommands(program, config);
  await program.parseAsync(argv, { from: 'user' });
}

main(process.argv.slice(2)).then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    console.error(`gpuq: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof GpuqApiError && err.problem.reasons) console.error(JSON.stringify(err.problem.reasons, null, 2));
    process.exit(err instanceof UsageError ? EXIT_USAGE : EXIT_FAILED);
  },
);
