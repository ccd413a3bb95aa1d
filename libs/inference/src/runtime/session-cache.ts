import * as ort from 'onnxruntime-node';
import type { ExecutionMeasurement, Precision, ProviderName } from '#contracts';
import type { ModelManifest } from '../models/manifest.js';
import { syntheticTextImage } from '../onnx/synthetic-text-image.js';
import { ModelVariantCache } from '../onnx/variant-cache.js';
import { summarizeExecution } from './execution-profile.js';
import { ProviderVariants, type KeptOp, type ProbeInput, type ProviderVariant } from './provider-variants.js';
import { executionProvider } from './session-options.js';
import { SessionThread, type ThreadedSession } from './session-thread.js';

/** A model's session on this worker's provider, with what it keeps in float32 and what it was measured to run in. */
export interface ModelSession extends ThreadedSession {
  /** `model|precision|provider`: one session per key in a process. */
  readonly key: string;
  readonly precision: Precision;
  readonly provider: ProviderName;
  /** Op types the variant keeps in float32 on this provider, and why. */
  readonly kept: readonly KeptOp[];
  /** What the session's first run computed in (element types) and where (providers); undefined before it ran. */
  measurement(): ExecutionMeasurement | undefined;
}

export interface SessionCacheOptions {
  /** Op types every reduced-precision variant keeps in float32 (VARIANT_KEEP_FP32_OPS). */
  keepFp32Ops?: readonly string[];
}

/** Side of the synthetic page a variant's trial run uses: kernels do not depend on the size, and small is quick. */
const TRIAL_SIZE = 320;

/**
 * One onnxruntime session per (model, precision, provider), created on first use and kept: creating a
 * session costs 0.3–0.75 s on the H100's WebGPU provider, far more than a small batch. The sessions live on
 * their own thread (session-thread.ts), so a running batch never stops the worker's heartbeats and locks.
 * Reduced-precision variants are fitted to the provider's kernels first (provider-variants.ts), and every
 * session's first run is profiled, so what it computes in is measured, not assumed.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<ModelSession>>();
  private thread?: SessionThread;
  private opened = 0;
  private readonly variants: ProviderVariants;

  constructor(cacheDir: string, private readonly options: SessionCacheOptions = {}) {
    this.variants = new ProviderVariants(new ModelVariantCache(cacheDir), (path, provider, input) => this.trialRun(path, provider, input));
  }

  get(manifest: ModelManifest, precision: Precision, provider: ProviderName): Promise<ModelSession> {
    if (this.thread && !this.thread.healthy) {
      // The sessions died with their thread: start over on a new one.
      this.sessions.clear();
      this.thread = undefined;
    }
    const key = `${manifest.id}|${precision}|${provider}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = this.create(key, manifest, precision, provider);
      this.sessions.set(key, session);
      // A failed creation must not be cached: the next job tries again (and reports its own error).
      session.catch(() => this.sessions.delete(key));
    }
    return session;
  }

  /**
   * A session of its own, not cached, that the caller releases: calibration measures memory on one per size where
   * a session keeps what it grew (the CUDA provider's arena), so that jobs' sessions hold only what jobs grew.
   */
  open(manifest: ModelManifest, precision: Precision, provider: ProviderName): Promise<ModelSession> {
    return this.create(`${manifest.id}|${precision}|${provider}#${++this.opened}`, manifest, precision, provider);
  }

  /** The variant of `manifest` in `precision` fitted to `provider` (converted and tried once per process). */
  fitVariant(manifest: ModelManifest, precision: Precision, provider: ProviderName): Promise<ProviderVariant> {
    return this.variants.fit(manifest.files.fp32, precision, provider, precision === 'fp32' ? [] : this.options.keepFp32Ops ?? [], trialInput(manifest));
  }

  /**
   * Drops one session (after its device was lost): the next `get` creates it again. Its first run is then
   * profiled again, as a new session's must be.
   */
  async discard(key: string): Promise<void> {
    const session = this.sessions.get(key);
    this.sessions.delete(key);
    await (await session?.catch(() => undefined))?.release().catch(() => undefined);
  }

  loadedModels(): string[] {
    return [...this.sessions.keys()];
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(async (s) => (await s.catch(() => undefined))?.release().catch(() => undefined)));
    await this.thread?.terminate();
    this.thread = undefined;
  }

  private async create(key: string, manifest: ModelManifest, precision: Precision, provider: ProviderName): Promise<ModelSession> {
    const fitted = precision === 'fp32' ? undefined : await this.fitVariant(manifest, precision, provider);
    const session = await this.threadNow().create(fitted?.path ?? manifest.files.fp32, sessionOptions(provider), { profileFirstRun: true });
    return Object.assign(session, {
      key, precision, provider, kept: fitted?.kept ?? [],
      measurement: () => (session.firstRun ? summarizeExecution(session.firstRun, provider) : undefined),
    });
  }

  private async trialRun(path: string, provider: ProviderName, input: ProbeInput) {
    const session = await this.threadNow().create(path, sessionOptions(provider), { profileFirstRun: true });
    try {
      await session.run({ [input.name]: new ort.Tensor('float32', input.data.slice(), input.dims) });
      return session.firstRun ?? [];
    } finally {
      await session.release();
    }
  }

  private threadNow(): SessionThread {
    this.thread ??= new SessionThread();
    return this.thread;
  }
}

function sessionOptions(provider: ProviderName) {
  return { executionProviders: [executionProvider(provider)], graphOptimizationLevel: 'all' as const };
}

function trialInput(manifest: ModelManifest): ProbeInput {
  return { name: manifest.input.name, data: syntheticTextImage(TRIAL_SIZE, TRIAL_SIZE), dims: [1, manifest.input.channels, TRIAL_SIZE, TRIAL_SIZE] };
}
