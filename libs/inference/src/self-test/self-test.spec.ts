import { describe, expect, it } from 'vitest';
import { probeProviders, listLoadableProviders } from './provider-probe.js';
import { runSelfTest } from './self-test.js';

describe('runSelfTest on the CPU provider', () => {
  it('proves fp32 only: fp16 runs upcast to float32 and bf16 has no kernels', async () => {
    const results = await runSelfTest('cpu');
    const byPrecision = Object.fromEntries(results.map((r) => [r.precision, r]));
    expect(results.map((r) => r.precision)).toEqual(['bf16', 'fp16', 'fp32']);

    expect(byPrecision.fp32).toMatchObject({ provider: 'cpu', passed: true });
    expect(byPrecision.fp32!.maxAbsError!).toBeLessThanOrEqual(byPrecision.fp32!.tolerance!);
    expect(byPrecision.fp32!.ms).toBeGreaterThanOrEqual(0);

    expect(byPrecision.fp16).toMatchObject({ passed: false, error: expect.stringMatching(/not fp16 .*inserted Casts/) });
    // The numbers alone would have passed: this is exactly the silent fallback the dtype check exists for.
    expect(byPrecision.fp16!.maxAbsError!).toBeLessThanOrEqual(byPrecision.fp16!.tolerance!);

    expect(byPrecision.bf16).toMatchObject({ passed: false, error: expect.stringMatching(/^Could not find an implementation for \w+\(\d+\) node/) });
    expect(byPrecision.bf16!.error!.length).toBeLessThanOrEqual(300);
  });

  it('tests only the precisions asked for', async () => {
    expect((await runSelfTest('cpu', ['fp32'])).map((r) => r.precision)).toEqual(['fp32']);
  });

  it('reports a provider that cannot start as failed, without throwing', async () => {
    const [result] = await runSelfTest('webgpu', ['fp32']);
    expect(result).toMatchObject({ provider: 'webgpu', passed: false, error: expect.any(String) });
  });
});

describe('listLoadableProviders', () => {
  it('finds cpu, tries cuda by creating a session, and webgpu fails on this GPU-less machine without hanging', async () => {
    const probes = await probeProviders(20_000);
    expect(probes.find((p) => p.provider === 'cpu')).toEqual({ provider: 'cpu', loadable: true });
    // Tried by creating a session, whatever onnxruntime's list says (it calls cuda `bundled: false` even where it
    // loads); here, without the CUDA provider's libraries, onnxruntime says why.
    const cuda = probes.find((p) => p.provider === 'cuda')!;
    if (!cuda.loadable) expect(cuda.error).toMatch(/cuda/i);
    expect(await listLoadableProviders()).toContain('cpu');
  });
});
