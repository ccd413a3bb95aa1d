import { BadInputError, GpuqError, OutOfMemoryError, TransientError } from '#contracts';

/** Out of memory, as onnxruntime (CPU and CUDA arenas), CUDA, cuBLAS/cuDNN, WebGPU on Vulkan, V8 and the C++ runtime word it. */
const OUT_OF_MEMORY: RegExp[] = [
  /Failed to allocate memory/i, // BFCArena::AllocateRawInternal, CPU and CUDA arenas
  /std::bad_alloc/,
  /\bbad allocation\b/i,
  /out of memory/i, // CUDA failure 2, cudaErrorMemoryAllocation, onnxruntime Alloc, WebGPU "Out of memory"
  /OutOfMemory/i,
  /OUT_OF_MEMORY/,
  /VK_ERROR_OUT_OF_(DEVICE|HOST)_MEMORY/, // Vulkan under WebGPU
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

/** A device that went away and comes back when the session is created again (a GPU reset, a driver restart). */
const DEVICE_LOST: RegExp[] = [/Device (was )?lost/i, /VK_ERROR_DEVICE_LOST/, /GPU is lost/i, /onnxruntime thread (failed|exited)/];

/** onnxruntime refusing the tensor it was given. */
const BAD_TENSOR: RegExp[] = [/Got invalid dimensions for input/, /Unexpected input data type/];

/**
 * An error from onnxruntime (a session's creation or run, on any provider) as gpuq's own class: out of memory,
 * a lost device (transient), or a tensor onnxruntime refused (bad input). Anything else comes back as it was.
 */
export function recognizeRuntimeError(err: unknown): unknown {
  if (err instanceof GpuqError) return err;
  const text = describe(err);
  const message = messageOf(err);
  if (OUT_OF_MEMORY.some((p) => p.test(text))) return new OutOfMemoryError(message, { cause: err });
  if (DEVICE_LOST.some((p) => p.test(text))) return new TransientError(message, { cause: err });
  if (BAD_TENSOR.some((p) => p.test(text))) return new BadInputError(message, { cause: err });
  return err;
}

/**
 * An error of libvips (through sharp) decoding one image's bytes: whatever it says ("VipsJpeg: Premature end of
 * JPEG file", "unsupported image format", "pngload: …"), that image cannot be read, a BadInputError with `what`
 * in front; but a failed allocation while decoding is an OutOfMemoryError: the image may be fine, the worker short.
 */
export function recognizeDecodeError(err: unknown, what: string): GpuqError {
  if (err instanceof GpuqError) return err;
  const message = `${what}: ${messageOf(err)}`;
  if (OUT_OF_MEMORY.some((p) => p.test(describe(err)))) return new OutOfMemoryError(message, { cause: err });
  return new BadInputError(message, { cause: err });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

/** Name, code, message and causes, on separate lines: onnxruntime wraps one error in another's words. */
function describe(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const record = typeof current === 'object' ? (current as Record<string, unknown>) : undefined;
    parts.push(record ? [record.name, record.code, record.message].filter((p) => typeof p === 'string').join(': ') : String(current));
    current = record?.cause;
  }
  return parts.join('\n');
}
