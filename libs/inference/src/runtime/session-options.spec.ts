import { describe, expect, it } from 'vitest';

// Each test imports a fresh copy: the options are process-wide state by design (one WebGPU context per process).
async function fresh() {
  const { vi } = await import('vitest');
  vi.resetModules();
  return import('./session-options.js');
}

describe('runtime options', () => {
  it('gives the WebGPU provider its buffer cache mode and leaves other providers bare', async () => {
    const m = await fresh();
    expect(m.executionProvider('cpu')).toBe('cpu');
    expect(m.executionProvider('webgpu')).toEqual({ name: 'webgpu', storageBufferCacheMode: 'lazyRelease' });
    expect(m.runtimeLabel('webgpu')).toBe('webgpu storageBufferCacheMode=lazyRelease; peak=in-run');
    expect(m.runtimeLabel('cpu')).toBe('cpu; peak=in-run');
    expect(m.runtimeLabel('cuda')).toBe('cuda; peak=in-run; session per size');
  });

  it('takes a mode before the first WebGPU session and refuses to change it after', async () => {
    const m = await fresh();
    m.configureRuntime({ webgpuBufferCache: 'bucket' });
    m.executionProvider('cpu'); // a CPU session does not fix the WebGPU context
    m.configureRuntime({ webgpuBufferCache: 'simple' });
    expect(m.executionProvider('webgpu')).toEqual({ name: 'webgpu', storageBufferCacheMode: 'simple' });
    expect(() => m.configureRuntime({ webgpuBufferCache: 'lazyRelease' })).toThrow(/already 'simple'.*before any session/);
    expect(() => m.configureRuntime({ webgpuBufferCache: 'simple' })).not.toThrow();
  });
});
