import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID, getManifest, listManifests, MODEL_MANIFESTS, withInputSize } from './manifest.js';

describe('model manifests', () => {
  it('has the default model, first in the list', () => {
    expect(getManifest(DEFAULT_MODEL_ID)?.id).toBe('ppocr-v4-det');
    expect(listManifests()[0]!.id).toBe(DEFAULT_MODEL_ID);
    expect(listManifests()).toHaveLength(Object.keys(MODEL_MANIFESTS).length);
  });

  it.each(Object.values(MODEL_MANIFESTS))('$id points at an existing file and a valid input size', (manifest) => {
    expect(path.isAbsolute(manifest.files.fp32)).toBe(true);
    expect(existsSync(manifest.files.fp32)).toBe(true);
    expect(manifest.input.size % 32).toBe(0);
    expect(manifest.maxBatch).toBeGreaterThan(0);
    expect(manifest.defaultProfile.perItemBytes).toBeGreaterThan(0);
  });

  it.each(['nope', 'constructor', '__proto__', 'toString'])('knows no model %s', (id) => {
    expect(getManifest(id)).toBeUndefined();
  });

  it('resizes the input and scales the per-item memory prior with pixels', () => {
    const base = getManifest(DEFAULT_MODEL_ID)!;
    const small = withInputSize(base, 480);
    expect(small.input.size).toBe(480);
    expect(small.defaultProfile.perItemBytes).toBe(Math.ceil(base.defaultProfile.perItemBytes / 4));
    expect(small.defaultProfile.fixedBytes).toBe(base.defaultProfile.fixedBytes);
    expect(base.input.size).toBe(960);
  });

  it.each([0, 100, -32, 64.5])('refuses input size %s', (size) => {
    expect(() => withInputSize(getManifest(DEFAULT_MODEL_ID)!, size)).toThrow(RangeError);
  });
});
