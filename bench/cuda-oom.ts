/**
 * What an out-of-memory error on onnxruntime's CUDA provider says, and whether the session survives it: one
 * session runs a batch far past the card (PP-OCRv4 at 960², fp32), then a small one. Prints the error, how gpuq
 * classifies it, and the small batch's outcome. Run on a CUDA machine: node dist/bench/cuda-oom.js [batch]
 */
import { detectBatch, getManifest, SessionCache, syntheticTextImage } from '#inference';
import { classifyError } from '#scheduling';

const batch = Number(process.argv[2] ?? 640);
const manifest = getManifest('ppocr-v4-det')!;
const S = manifest.input.size;
const page = { data: syntheticTextImage(S, S), meta: { width: S, height: S, scale: 1 } };
const sessions = new SessionCache('.data/models');
const session = await sessions.get(manifest, 'fp32', 'cuda');
const emit = (o: object) => console.log(JSON.stringify(o));
try {
  await detectBatch(session, manifest, Array.from({ length: batch }, () => page));
  emit({ kind: 'cuda-oom', batch, error: null });
} catch (err) {
  emit({ kind: 'cuda-oom', batch, error: err instanceof Error ? err.message : String(err), classified: classifyError(err).kind });
}
try {
  const { boxes } = await detectBatch(session, manifest, [page, page]);
  emit({ kind: 'cuda-oom-after', batch: 2, ok: true, boxes: boxes.map((b) => b.length) });
} catch (err) {
  emit({ kind: 'cuda-oom-after', batch: 2, ok: false, error: err instanceof Error ? err.message : String(err) });
}
await sessions.release();
process.exit(0);
