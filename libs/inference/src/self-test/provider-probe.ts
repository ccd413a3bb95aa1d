import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { ProviderName } from '#contracts';
import { errorText } from '../onnx/error-text.js';
import { buildMlpModel } from '../onnx/model-builder.js';

const KNOWN_PROVIDERS: readonly ProviderName[] = ['cuda', 'webgpu', 'cpu'];

/** Whether one provider could create a session, and onnxruntime's reason when not. */
export interface ProviderProbe {
  provider: ProviderName;
  loadable: boolean;
  error?: string;
}

/**
 * Providers (of cuda, webgpu, cpu) that can create a tiny float32 session here, in preference order. Each is
 * tried in a child process with a timeout: a GPU driver that hangs or aborts while initializing (WebGPU without
 * an adapter, a broken CUDA install) must not take the worker with it. onnxruntime's own list is no guide:
 * it calls cuda `bundled: false` even where the CUDA provider's libraries are installed and load.
 */
export async function listLoadableProviders(timeoutMs = 15_000): Promise<ProviderName[]> {
  const probes = await probeProviders(timeoutMs);
  return probes.filter((p) => p.loadable).map((p) => p.provider);
}

/** {@link listLoadableProviders} with the reason for each provider that did not load. */
export async function probeProviders(timeoutMs = 15_000): Promise<ProviderProbe[]> {
  const probes: ProviderProbe[] = [];
  for (const provider of KNOWN_PROVIDERS) probes.push(await probeProvider(provider, timeoutMs));
  return probes;
}

// Runs in the child: creates a session and reports on stdout. Errors are data, not exit codes.
const PROBE_SCRIPT = `
const ort = await import(process.env.GPUQ_ORT_URL);
try {
  const model = Buffer.from(process.env.GPUQ_PROBE_MODEL, 'base64');
  const session = await ort.InferenceSession.create(model, { executionProviders: [process.env.GPUQ_PROBE_PROVIDER], logSeverityLevel: 4 });
  await session.release();
  process.stdout.write('ok');
} catch (error) {
  process.stdout.write('error:' + (error && error.message ? error.message : String(error)));
}
`;

/** Tries one provider in a child process; a hang past `timeoutMs` counts as not loadable. */
export function probeProvider(provider: ProviderName, timeoutMs = 15_000): Promise<ProviderProbe> {
  const ortUrl = pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
  const model = Buffer.from(buildMlpModel({ inputWidth: 4, hiddenWidth: 4, layers: 1, outputWidth: 4, dtype: 'fp32' })).toString('base64');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', PROBE_SCRIPT],
      {
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        env: { ...process.env, GPUQ_ORT_URL: ortUrl, GPUQ_PROBE_MODEL: model, GPUQ_PROBE_PROVIDER: provider },
        maxBuffer: 1024 * 1024,
      },
      (error, stdout) => {
        if (stdout.startsWith('ok')) return resolve({ provider, loadable: true });
        if (stdout.startsWith('error:')) return resolve({ provider, loadable: false, error: errorText(stdout.slice(6)) });
        const reason = error?.killed ? `no answer within ${timeoutMs} ms` : errorText(error ?? 'probe exited without an answer');
        resolve({ provider, loadable: false, error: reason });
      },
    );
  });
}
