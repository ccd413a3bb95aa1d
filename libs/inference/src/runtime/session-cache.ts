import * as ort from 'onnxruntime-node';
import type { Precision, ProviderName } from '#contracts';
import type { ModelManifest } from '../models/manifest.js';
import { ModelVariantCache } from '../onnx/variant-cache.js';
import { executionProvider } from './session-options.js';

/**
 * One onnxruntime session per (model, precision, provider), created on first use and kept: creating a
 * session costs 0.3–0.75 s on the H100's WebGPU provider, far more than a small batch.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly variants: ModelVariantCache;

  constructor(cacheDir: string) {
    this.variants = new ModelVariantCache(cacheDir);
  }

  get(manifest: ModelManifest, precision: Precision, provider: ProviderName): Promise<ort.InferenceSession> {
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
    await Promise.all(all.map(async (s) => (await s.catch(() => undefined))?.release()));
  }

  private async create(manifest: ModelManifest, precision: Precision, provider: ProviderName): Promise<ort.InferenceSession> {
    const path = await this.variants.getVariant(manifest.files.fp32, precision);
    return ort.InferenceSession.create(path, { executionProviders: [executionProvider(provider)], graphOptimizationLevel: 'all' });
  }
}
