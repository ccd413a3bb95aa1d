/** Checks a model's fp16 variant against fp32 on a provider (default webgpu). Run: node dist/bench/verify-variant.js [model] [provider] */
import type { ProviderName } from '#contracts';
import { getManifest, ModelVariantCache, verifyVariant } from '#inference';

const [modelId = 'ppocr-v4-det', provider = 'webgpu'] = process.argv.slice(2);
const manifest = getManifest(modelId)!;
const variantPath = await new ModelVariantCache('.data/models').getVariant(manifest.files.fp32, 'fp16');
console.log(JSON.stringify(await verifyVariant({ fp32Path: manifest.files.fp32, variantPath, precision: 'fp16', provider: provider as ProviderName })));
