import type { Precision, ProviderName } from '#contracts';
import type { ModelManifest } from '../models/manifest.js';
import { ModelVariantCache } from '../onnx/variant-cache.js';
import { executionProvider } from './session-options.js';
import { SessionThread, type ThreadedSession } from './session-thread.js';

/**
 * One onnxruntime session per (model, precision, provider), created on first use and kept: creating a
 * session costs 0.3–0.75 s on the H100's WebGPU provider, far more than a small batch. The sessions live on
 * their own thread (session-thread.ts), so a running batch never stops the worker's heartbeats and locks.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<ThreadedSession>>();
  private thread?: SessionThread;
  private readonly variants: ModelVariantCache;

  constructor(cacheDir: string) {
    this.variants = new ModelVariantCache(cacheDir);
  }

  get(manifest: ModelManifest, precision: Precision, provider: ProviderName): Promise<ThreadedSession> {
    if (this.thread && !this.thread.healthy) {
      // The sessions died with their thread: start over on a new one.
      this.sessions.clear();
      this.thread = undefined;
    }
    const key = `${manifest.id}|${precision}|${provider}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = this.create(manifest, precision, provider);
      this.sessions.set(key, session);
      // A failed creation must not be cached: the next job tries again (and reports its own error).
      session.catch(() => this.sessions.delete(key));
    }
    return session;
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

  private async create(manifest: ModelManifest, precision: Precision, provider: ProviderName): Promise<ThreadedSession> {
    const path = await this.variants.getVariant(manifest.files.fp32, precision);
    this.thread ??= new SessionThread();
    return this.thread.create(path, { executionProviders: [executionProvider(provider)], graphOptimizationLevel: 'all' });
  }
}
