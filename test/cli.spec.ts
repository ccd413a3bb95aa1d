import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import type { DeviceCapability, MemoryProfile } from '#contracts';
import { testEnv } from './support/stack.js';

const run = promisify(execFile);
const cli = join(fileURLToPath(new URL('../', import.meta.url)), 'dist/apps/cli/src/main.js');

describe('gpuq CLI', () => {
  const env = { ...process.env, ...testEnv(inject('redisUrl'), { WORKER_DEVICE: 'cpu', LOG_LEVEL: 'warn' }) };

  it('calibrates a model on this device, stores the profile and exports it', async () => {
    const { stdout } = await run(process.execPath, [cli, 'calibrate', '--model', 'ppocr-v4-det-640', '--precision', 'fp32', '--max-batch', '2'], { env });
    const report = JSON.parse(stdout) as { profile: MemoryProfile; points: { batch: number; peakBytes: number }[] };
    expect(report.points.map((p) => p.batch)).toEqual([1, 2]);
    expect(report.profile).toMatchObject({ model: 'ppocr-v4-det-640', precision: 'fp32', provider: 'cpu', device: 'cpu', source: 'calibrated' });
    expect(report.profile.perItemBytes).toBeGreaterThan(10 * 2 ** 20);

    const exported = JSON.parse((await run(process.execPath, [cli, 'profiles'], { env })).stdout) as MemoryProfile[];
    expect(exported).toHaveLength(1);
    expect(exported[0]!.points).toHaveLength(2);
  });

  it('probes the device as a worker here would advertise it: self-tests measured, half precisions refused with the reason', async () => {
    const { stdout } = await run(process.execPath, [cli, 'probe'], { env });
    const device = JSON.parse(stdout) as DeviceCapability;
    expect(device).toMatchObject({ source: 'probed', kind: 'cpu', provider: 'cpu', provenPrecisions: ['fp32'], variantChecks: [] });
    expect(device.selfTests.find((t) => t.precision === 'fp16')).toMatchObject({ passed: false, error: expect.stringMatching(/^not fp16 throughout: .* computed in fp32/) });
    // cuda is tried by creating a session, whatever onnxruntime's list of bundled providers says.
    expect(device.availableProviders).toContain('cpu');
  });

  it('refuses a precision the device has not proven, and bad arguments', async () => {
    await expect(run(process.execPath, [cli, 'calibrate', '--model', 'ppocr-v4-det-640', '--precision', 'bf16'], { env })).rejects.toMatchObject({
      code: 1, stderr: expect.stringMatching(/bf16 is not proven on this device/),
    });
    await expect(run(process.execPath, [cli, 'calibrate', '--model', 'nope', '--precision', 'fp32'], { env })).rejects.toMatchObject({
      stderr: expect.stringMatching(/--model must be one of ppocr-v4-det/),
    });
    await expect(run(process.execPath, [cli, 'frobnicate'], { env })).rejects.toMatchObject({ code: 2 });
  });
});
