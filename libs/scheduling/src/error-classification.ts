export type ErrorKind = 'oom' | 'bad-input' | 'transient' | 'fatal';

export interface ErrorClassification {
  kind: ErrorKind;
  message: string;
}

/** Out of memory, as onnxruntime-node (CPU, CUDA, WebGPU), V8 and the C++ runtime word it. */
const OOM_PATTERNS: RegExp[] = [
  /Failed to allocate memory/i, // BFCArena::AllocateRawInternal, CPU and CUDA arenas
  /std::bad_alloc/,
  /\bbad allocation\b/i,
  /out of memory/i, // CUDA failure 2, cudaErrorMemoryAllocation, onnxruntime Alloc, WebGPU "Out of memory"
  /OutOfMemory/i,
  /OUT_OF_MEMORY/,
  /cudaErrorMemoryAllocation/,
  /CUBLAS_STATUS_ALLOC_FAILED/,
  /CUDNN_STATUS_ALLOC_FAILED/,
  /Allocation size too large/i, // WebGPU CreateBuffer
  // WebGPU on Vulkan (H100): vkAllocateMemory fails with VK_ERROR_OUT_OF_DEVICE_MEMORY on stderr, and the run
  // then rejects with only this: the buffer is invalid because its creation failed.
  /Invalid Buffer[^\n]*is invalid due to a previous error/i,
  /Invalid typed array length/, // the batch is too big for one JS typed array
  /Array buffer allocation failed/,
];

/** The input is wrong: sharp/libvips decode errors and onnxruntime input validation. */
const BAD_INPUT_PATTERNS: RegExp[] = [
  /unsupported image format/i,
  /Premature end of (JPEG|PNG|input)/i,
  /Input file is missing/i,
  /Input buffer is empty/i,
  /Input image/i,
  /\bVips\w*:/,
  /\b(jpeg|png|webp|gif|tiff|heif)load\b/i,
  /Got invalid dimensions for input/,
  /Unexpected input data type/,
];

/** Worth retrying as is: the network, Redis, or a GPU device that was lost and will be recreated. */
const TRANSIENT_PATTERNS: RegExp[] = [
  /\bECONNREFUSED\b/,
  /\bECONNRESET\b/,
  /\bETIMEDOUT\b/,
  /\bEPIPE\b/,
  /\bEAI_AGAIN\b/,
  /Connection is closed/i,
  /socket hang up/i,
  /Device lost/i,
];

/**
 * Sorts an error into what the worker should do about it: `oom` (shrink or reroute), `bad-input`
 * (fail at once, never retry), `transient` (retry as is) or `fatal`. Out-of-memory wins over the rest
 * because an allocation failure can surface wrapped in other words (a lost device, a failed run).
 * Looks at the error's name, message, `code` and its `cause` chain.
 */
export function classifyError(err: unknown): ErrorClassification {
  const message = messageOf(err);
  const names = causeChain(err).map((e) => (e instanceof Error || isRecord(e) ? String((e as { name?: unknown }).name ?? '') : ''));
  if (names.includes('OutOfMemoryError')) return { kind: 'oom', message };
  if (names.includes('BadInputError')) return { kind: 'bad-input', message };

  const text = causeChain(err).map(describe).join('\n');
  if (OOM_PATTERNS.some((p) => p.test(text))) return { kind: 'oom', message };
  if (BAD_INPUT_PATTERNS.some((p) => p.test(text))) return { kind: 'bad-input', message };
  if (TRANSIENT_PATTERNS.some((p) => p.test(text))) return { kind: 'transient', message };
  return { kind: 'fatal', message };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  if (isRecord(err) && typeof err.message === 'string') return err.message;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

function describe(err: unknown): string {
  if (typeof err === 'string') return err;
  if (!isRecord(err)) return String(err);
  const parts = [err.name, err.code, err.message].filter((p) => typeof p === 'string' && p.length > 0);
  return parts.length > 0 ? parts.join(': ') : messageOf(err);
}

/** The error and its causes, at most a few deep (causes can be cyclic). */
function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = err;
  while (current !== undefined && current !== null && chain.length < 5 && !chain.includes(current)) {
    chain.push(current);
    current = isRecord(current) ? current.cause : undefined;
  }
  return chain;
}
