/**
 * Runs a command in one GPU's namespace (see gpu-namespace.ts), for benches and checks on a multi-GPU host:
 *   node dist/apps/worker/src/host/run-on-gpu.js <gpu index> <command…>
 * Exits with the command's status.
 */
import { spawn } from 'node:child_process';
import { NvidiaSmi } from '#device';
import { gpuNamespaceOf, namespaceArgv } from './gpu-namespace.js';

const [indexArg, ...command] = process.argv.slice(2);
const gpus = await new NvidiaSmi().listGpus();
const gpu = gpus.find((g) => String(g.index) === indexArg);
if (!gpu || command.length === 0) {
  console.error(`usage: run-on-gpu <gpu index> <command…> (nvidia-smi lists ${gpus.map((g) => g.index).join(', ') || 'no GPU'})`);
  process.exit(64);
}
const argv = namespaceArgv(await gpuNamespaceOf(gpu.pciBusId ?? ''), command);
const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
