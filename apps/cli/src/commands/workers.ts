import type { Command } from 'commander';
import type { Config } from '#config';
import { formatGb } from '#scheduling';
import { apiClient, type ApiOptions } from '../api-client.js';

export function workersCommand(program: Command, config: Config): void {
  program
    .command('workers')
    .description('live workers: device, proven precisions, classes served, free memory, your running jobs')
    .option('--json', 'as JSON')
    .action(async (options: ApiOptions & { json?: boolean }) => {
      const workers = await apiClient(config, options).workers();
      if (options.json) return console.log(JSON.stringify(workers, null, 2));
      if (workers.length === 0) return console.log('no live workers');
      for (const w of workers) {
        const device = w.device.gpu ? `${w.device.gpu.name} (GPU ${w.device.gpu.index})` : 'CPU';
        console.log(`${w.workerId}  ${w.status}  ${device} ${w.device.source}, ${w.device.provider}: ${w.device.provenPrecisions.join(', ')}`
          + `  free ${formatGb(w.freeBytes)}  classes ${w.classes.join(', ')}${w.runningJobs.length ? `  running ${w.runningJobs.join(', ')}` : ''}`);
      }
    });
}
