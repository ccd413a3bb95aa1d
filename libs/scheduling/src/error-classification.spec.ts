import { describe, expect, it } from 'vitest';
import { classifyError, type ErrorKind } from './error-classification.js';
import { BadInputError, OutOfMemoryError } from './errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('classifyError', () => {
  it.each<[string, unknown, ErrorKind]>([
    // CPU arena
    [
      'cpu BFCArena',
      new Error(
        '[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while running Conv node. Name:\'Conv_0\' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) Failed to allocate memory for requested buffer of size 4294967296',
      ),
      'oom',
    ],
    ['std::bad_alloc', new Error('std::bad_alloc'), 'oom'],
    ['bad allocation (Windows)', new Error('bad allocation'), 'oom'],
    ['onnxruntime Alloc out of memory', new Error('onnxruntime::CPUAllocator::Alloc out of memory'), 'oom'],
    // CUDA
    ['CUDA failure 2', new Error('CUDA failure 2: out of memory ; GPU=0 ; hostname=gpu-1 ; file=cuda_allocator.cc ; line=47 ; expr=cudaMalloc((void**)&p, size);'), 'oom'],
    ['cudaErrorMemoryAllocation', new Error('CUDA error cudaErrorMemoryAllocation:out of memory'), 'oom'],
    ['cuBLAS alloc', new Error('CUBLAS failure 3: CUBLAS_STATUS_ALLOC_FAILED ; GPU=0'), 'oom'],
    ['cuDNN alloc', new Error('CUDNN failure 2: CUDNN_STATUS_ALLOC_FAILED ; GPU=0'), 'oom'],
    ['CUDA arena', new Error('Failed to allocate memory for requested buffer of size 2147483648'), 'oom'],
    // WebGPU
    ['WebGPU on Vulkan, device memory exhausted (H100)', new Error('WebGPU validation failed. [Invalid Buffer (unlabeled)] is invalid due to a previous error.\n - While validating entries[2] against { binding: 2, visibility: ShaderStage::Compute, buffer: {type: BufferBindingType::Storage, minBindingSize: 0, hasDynamicOffset: 0} }.\n - While validating [BindGroupDescriptor ""MatMul""] against [BindGroupLayout "MatMul"]\n - While calling [Device].CreateBindGroup'), 'oom'],
    ['WebGPU buffer too large', new Error('WebGPU device error(3): Allocation size too large - While calling [Device].CreateBuffer([BufferDescriptor])'), 'oom'],
    ['WebGPU Out of memory', new Error('Out of memory'), 'oom'],
    ['WebGPU OutOfMemory', new Error('GPUValidationError: OutOfMemory'), 'oom'],
    // JS
    ['typed array too long', new RangeError('Invalid typed array length: 4294967296'), 'oom'],
    ['array buffer allocation', new RangeError('Array buffer allocation failed'), 'oom'],
    ['our own OutOfMemoryError', new OutOfMemoryError('predicted 30 GB > 24 GB', { requestedBytes: 30e9 }), 'oom'],
    ['OOM wrapped as a cause', new Error('batch failed', { cause: new Error('CUDA failure 2: out of memory') }), 'oom'],
    // bad input
    ['sharp unsupported format', new Error('Input buffer contains unsupported image format'), 'bad-input'],
    ['truncated JPEG', new Error('VipsJpeg: Premature end of JPEG file'), 'bad-input'],
    ['missing file', new Error('Input file is missing: /tmp/x.png'), 'bad-input'],
    ['pixel limit', new Error('Input image exceeds pixel limit'), 'bad-input'],
    ['onnxruntime dimensions', new Error('Got invalid dimensions for input: images for the following indices index: 1 Got: 4 Expected: 3'), 'bad-input'],
    ['onnxruntime data type', new Error('Unexpected input data type. Actual: (tensor(double)) , expected: (tensor(float))'), 'bad-input'],
    ['our own BadInputError', new BadInputError('image 3 is not an image', { imageIndex: 3 }), 'bad-input'],
    ['a plain object named BadInputError', { name: 'BadInputError', message: 'nope' }, 'bad-input'],
    // transient
    ['redis refused', withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'), 'transient'],
    ['reset', withCode('read ECONNRESET', 'ECONNRESET'), 'transient'],
    ['timeout by code only', withCode('request failed', 'ETIMEDOUT'), 'transient'],
    ['ioredis closed', new Error('Connection is closed.'), 'transient'],
    ['device lost', new Error('Device lost: the GPU was reset'), 'transient'],
    // fatal
    ['anything else', new Error('Load model from /models/x.onnx failed: Protobuf parsing failed.'), 'fatal'],
    ['a thrown string', 'something broke', 'fatal'],
    ['undefined', undefined, 'fatal'],
  ])('%s', (_name, err, kind) => {
    expect(classifyError(err).kind).toBe(kind);
  });

  it.each<[string, unknown, string]>([
    ['Error keeps its message', new Error('CUDA failure 2: out of memory'), 'CUDA failure 2: out of memory'],
    ['string is the message', 'boom', 'boom'],
    ['object message', { message: 'obj' }, 'obj'],
  ])('message: %s', (_name, err, message) => {
    expect(classifyError(err).message).toBe(message);
  });

  it.each([
    ['OutOfMemoryError', new OutOfMemoryError('x', { requestedBytes: 5, availableBytes: 3, batchSize: 8 }), { name: 'OutOfMemoryError', requestedBytes: 5, availableBytes: 3, batchSize: 8 }],
    ['BadInputError', new BadInputError('y', { imageIndex: 2, filename: 'a.jpg' }), { name: 'BadInputError', imageIndex: 2, filename: 'a.jpg' }],
  ])('%s carries its name and fields', (_name, err, fields) => {
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject(fields);
  });
});
