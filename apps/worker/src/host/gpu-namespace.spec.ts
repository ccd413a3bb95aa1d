import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { gpuNamespaceOf, namespaceArgv, procBusId } from './gpu-namespace.js';

const run = promisify(execFile);
const canUnshare = process.getuid?.() === 0 && (await run('unshare', ['--mount', 'true']).then(() => true, () => false));

describe('GPU namespace', () => {
  it('names the card as the driver\'s /proc does', () => {
    expect(procBusId('00000000:00:07.0')).toBe('0000:00:07.0');
    expect(procBusId('00000000:1B:00.0')).toBe('0000:1b:00.0');
    expect(procBusId('0000:3b:00.0')).toBe('0000:3b:00.0');
  });

  it('reads the device minor from the driver information, which need not be the nvidia-smi index', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gpuq-proc-'));
    await mkdir(join(root, '0000:00:07.0'));
    await writeFile(join(root, '0000:00:07.0', 'information'), 'Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t 52\nGPU UUID: \t GPU-6ca8\nDevice Minor: \t 3\nBus Location: \t 0000:00:07.0\n');
    expect(await gpuNamespaceOf('00000000:00:07.0', root)).toEqual({ minor: 3, procBusId: '0000:00:07.0' });
    await expect(gpuNamespaceOf('00000000:00:08.0', root)).rejects.toThrow(/GPU 00000000:00:08.0: cannot read its driver information/);
  });

  // The mechanics, where this machine allows them (root and unshare): /dev keeps only the named nodes and
  // cannot be written, so nothing can recreate another card's node.
  it.runIf(canUnshare)('shows the command a read-only /dev with only its card\'s node', async () => {
    const argv = namespaceArgv({ minor: 0, procBusId: '0000:00:06.0' }, ['sh', '-c', 'ls /dev; touch /dev/nvidia1 2>&1 || true; echo x > /dev/null && echo null-writable']);
    const { stdout } = await run(argv[0]!, argv.slice(1));
    const lines = stdout.trim().split('\n');
    expect(lines).toContain('null');
    expect(lines).toContain('shm');
    expect(lines.filter((l) => /^nvidia\d/.test(l)).every((l) => l === 'nvidia0')).toBe(true);
    expect(stdout).toMatch(/Read-only file system/);
    expect(stdout).toContain('null-writable');
  });

  it.runIf(canUnshare)('hands back the command\'s own exit status (the worker\'s, for the host)', async () => {
    const argv = namespaceArgv({ minor: 0, procBusId: '0000:00:06.0' }, ['sh', '-c', 'exit 5']);
    await expect(run(argv[0]!, argv.slice(1))).rejects.toMatchObject({ code: 5 });
  });
});
