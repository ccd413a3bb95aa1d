import { describe, expect, it } from 'vitest';
import { BadInputError, GpuqError, OutOfMemoryError, TransientError } from '#contracts';
import { recognizeDecodeError, recognizeRuntimeError } from './recognize-error.js';

type Expected = typeof OutOfMemoryError | typeof TransientError | typeof BadInputError | undefined;

describe('recognizeRuntimeError: onnxruntime, CUDA, Vulkan and V8 words as gpuq classes', () => {
  it.each<[string, unknown, Expected]>([
    ['cpu BFCArena', new Error("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while running Conv node. Name:'Conv_0' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) Failed to allocate memory for requested buffer of size 4294967296"), OutOfMemoryError],
    ['std::bad_alloc', new Error('std::bad_alloc'), OutOfMemoryError],
    ['bad allocation (Windows)', new Error('bad allocation'), OutOfMemoryError],
    ['onnxruntime Alloc out of memory', new Error('onnxruntime::CPUAllocator::Alloc out of memory'), OutOfMemoryError],
    ['CUDA failure 2', new Error('CUDA failure 2: out of memory ; GPU=0 ; hostname=gpu-1 ; file=cuda_allocator.cc ; line=47 ; expr=cudaMalloc((void**)&p, size);'), OutOfMemoryError],
    ['cudaErrorMemoryAllocation', new Error('CUDA error cudaErrorMemoryAllocation:out of memory'), OutOfMemoryError],
    ['cuBLAS alloc', new Error('CUBLAS failure 3: CUBLAS_STATUS_ALLOC_FAILED ; GPU=0'), OutOfMemoryError],
    ['cuDNN alloc', new Error('CUDNN failure 2: CUDNN_STATUS_ALLOC_FAILED ; GPU=0'), OutOfMemoryError],
    ['WebGPU on Vulkan, device memory exhausted (H100)', new Error('WebGPU validation failed. [Invalid Buffer (unlabeled)] is invalid due to a previous error.\n - While calling [Device].CreateBindGroup'), OutOfMemoryError],
    ['Vulkan out of device memory', new Error('vkAllocateMemory failed with VK_ERROR_OUT_OF_DEVICE_MEMORY'), OutOfMemoryError],
    ['WebGPU buffer too large', new Error('WebGPU device error(3): Allocation size too large - While calling [Device].CreateBuffer([BufferDescriptor])'), OutOfMemoryError],
    ['WebGPU OutOfMemory', new Error('GPUValidationError: OutOfMemory'), OutOfMemoryError],
    ['typed array too long', new RangeError('Invalid typed array length: 4294967296'), OutOfMemoryError],
    ['array buffer allocation', new RangeError('Array buffer allocation failed'), OutOfMemoryError],
    ['OOM wrapped as a cause', new Error('batch failed', { cause: new Error('CUDA failure 2: out of memory') }), OutOfMemoryError],
    ['WebGPU device lost', new Error('Device lost: the GPU was reset'), TransientError],
    ['Vulkan device lost', new Error('vkQueueSubmit failed with VK_ERROR_DEVICE_LOST'), TransientError],
    ['the onnxruntime thread died', new Error('onnxruntime thread exited (1)'), TransientError],
    ['onnxruntime dimensions', new Error('Got invalid dimensions for input: images for the following indices index: 1 Got: 4 Expected: 3'), BadInputError],
    ['onnxruntime data type', new Error('Unexpected input data type. Actual: (tensor(double)) , expected: (tensor(float))'), BadInputError],
    ['anything else stays as it was', new Error('Load model from /models/x.onnx failed: Protobuf parsing failed.'), undefined],
  ])('%s', (_name, err, expected) => {
    const recognized = recognizeRuntimeError(err);
    if (expected) {
      expect(recognized).toBeInstanceOf(expected);
      expect((recognized as Error).cause).toBe(err);
      expect((recognized as Error).name).toBe(expected.name);
    } else {
      expect(recognized).toBe(err);
    }
  });

  it('leaves an error gpuq already typed alone', () => {
    const typed = new TransientError('Connection is closed.');
    expect(recognizeRuntimeError(typed)).toBe(typed);
  });
});

describe('recognizeDecodeError: libvips refusing an image', () => {
  it.each<[string, Error, Expected]>([
    ['truncated JPEG', new Error('VipsJpeg: Premature end of JPEG file'), BadInputError],
    ['sharp unsupported format', new Error('Input buffer contains unsupported image format'), BadInputError],
    ['png decoder', new Error('pngload_buffer: libpng read error'), BadInputError],
    ['pixel limit', new Error('Input image exceeds pixel limit'), BadInputError],
    ['libvips out of memory is not the image\'s fault', new Error('vips_malloc: out of memory --- size == 1.2GB'), OutOfMemoryError],
  ])('%s', (_name, err, expected) => {
    const recognized = recognizeDecodeError(err, 'image 3');
    expect(recognized).toBeInstanceOf(expected!);
    expect(recognized.message).toBe(`image 3: ${err.message}`);
    expect(recognized).toBeInstanceOf(GpuqError);
  });
});
