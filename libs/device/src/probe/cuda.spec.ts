import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getManifest, probeProvider, runSelfTest, SessionCache } from '#inference';
import { judgeExecution } from '#scheduling';
import { NvidiaSmi } from './nvidia-smi.js';
import { pinCudaProcess } from './probe-device.js';

// Before anything loads CUDA in this process: fp32 means fp32 (see pinCudaProcess).
const [gpu] = await new NvidiaSmi().listGpus();
pinCudaProcess(gpu, { CUDA_TF32: false });
const cuda = await probeProvider('cuda');
const skipped = !cuda.loadable || !gpu ? `no CUDA device here (${gpu ? cuda.error : 'nvidia-smi lists no GPU'})` : undefined;
if (skipped) console.log(`skipped the CUDA provider tests: ${skipped}`);

const dir = await mkdtemp(join(tmpdir(), 'gpuq-cuda-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.skipIf(!!skipped)('on onnxruntime’s CUDA provider (runs where it loads)', () => {
  it('proves fp32 exactly (TF32 off), fp16, and bf16 on compute capability >= 8', async () => {
    const results = await runSelfTest('cuda');
    const passed = results.filter((r) => r.passed).map((r) => r.precision);
    expect(passed).toContain('fp32');
    expect(passed).toContain('fp16');
    if (gpu!.computeCapability >= 8) expect(passed).toContain('bf16');
  });

  it('fits PP-OCRv4’s bf16 variant to the provider and measures it computing in bf16 on CUDA', async () => {
    const sessions = new SessionCache(dir);
    try {
      const fitted = await sessions.fitVariant(getManifest('ppocr-v4-det')!, 'bf16', 'cuda');
      const verdict = judgeExecution('bf16', fitted.measurement, 0.9);
      expect(verdict, verdict.message).toMatchObject({ ok: true });
      expect(fitted.measurement.provider).toBe('CUDAExecutionProvider');
    } finally {
      await sessions.release();
    }
  });
});
