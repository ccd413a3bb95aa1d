import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Precision } from '#contracts';
import { CONVERTER_VERSION, convertModelPrecision, type ConvertPrecisionOptions } from './convert-precision.js';
import type { HalfFormat } from './half.js';

/** The conversion the cache runs; injectable so tests can count conversions. */
export type VariantConverter = (fp32Model: Uint8Array, target: HalfFormat, opts?: ConvertPrecisionOptions) => Uint8Array;

/**
 * fp16/bf16 variants of float32 models, converted once and kept on disk. A variant's file name carries the
 * sha256 of the source, the precision, the ops kept in float32 (when any) and the converter version, so a
 * changed model, keep list or converter never serves a stale file, and several worker processes sharing the
 * directory agree on names.
 */
export class ModelVariantCache {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly cacheDir: string,
    private readonly convert: VariantConverter = convertModelPrecision,
  ) {}

  /**
   * Path of the model file for `precision`: the original for fp32, else the cached (or freshly made) variant
   * with the op types in `keepFp32Ops` left in float32 (Casts around them).
   */
  async getVariant(fp32Path: string, precision: Precision, keepFp32Ops: readonly string[] = []): Promise<string> {
    if (precision === 'fp32') return fp32Path;
    const source = await readFile(fp32Path);
    const digest = createHash('sha256').update(source).digest('hex').slice(0, 32);
    const stem = basename(fp32Path, extname(fp32Path));
    const keep = [...new Set(keepFp32Ops)].sort();
    const keepTag = keep.length ? `.k${createHash('sha256').update(keep.join(',')).digest('hex').slice(0, 8)}` : '';
    const target = join(this.cacheDir, `${stem}.${digest}.${precision}${keepTag}.c${CONVERTER_VERSION}.onnx`);
    const pending = this.inFlight.get(target);
    if (pending) return pending;
    const work = this.ensureVariant(source, precision, keep, target).finally(() => this.inFlight.delete(target));
    this.inFlight.set(target, work);
    return work;
  }

  private async ensureVariant(source: Uint8Array, precision: HalfFormat, keepFp32Ops: string[], target: string): Promise<string> {
    if (await exists(target)) return target;
    await mkdir(this.cacheDir, { recursive: true });
    const converted = this.convert(source, precision, keepFp32Ops.length ? { keepFp32Ops } : undefined);
    // Write-then-rename: a reader (or another process) sees either no file or a whole one, never a torn write.
    const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, converted);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return target;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
