import { describe, expect, it } from 'vitest';
import { BadInputError, GpuqError, OutOfMemoryError, TransientError } from '#contracts';
import { classifyError, type ErrorKind } from './error-classification.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('classifyError', () => {
  it.each<[string, unknown, ErrorKind]>([
    ['OutOfMemoryError', new OutOfMemoryError('predicted 30 GB > 24 GB', { requestedBytes: 30e9 }), 'oom'],
    ['OutOfMemoryError as a cause', new Error('batch failed', { cause: new OutOfMemoryError('CUDA failure 2: out of memory') }), 'oom'],
    ['BadInputError', new BadInputError('image 3 is not an image', { imageIndex: 3 }), 'bad-input'],
    ['TransientError', new TransientError('Device lost'), 'transient'],
    ['another GpuqError', new GpuqError('precision-mismatch', 'ran in fp32'), 'fatal'],
    // Connections fail in many places: recognised by their codes and words.
    ['redis refused', withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'), 'transient'],
    ['reset', withCode('read ECONNRESET', 'ECONNRESET'), 'transient'],
    ['timeout by code only', withCode('request failed', 'ETIMEDOUT'), 'transient'],
    ['ioredis closed', new Error('Connection is closed.'), 'transient'],
    ['a reset as the cause of an S3 error', new Error('GetObject failed', { cause: withCode('socket hang up', 'ECONNRESET') }), 'transient'],
    // Only types decide: words of a runtime are recognised where its errors enter (libs/inference), not here.
    ['an untyped out-of-memory message', new Error('CUDA failure 2: out of memory'), 'fatal'],
    ['a plain object named BadInputError', { name: 'BadInputError', message: 'nope' }, 'fatal'],
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
    ['OutOfMemoryError', new OutOfMemoryError('x', { requestedBytes: 5, availableBytes: 3, batchSize: 8 }), { name: 'OutOfMemoryError', code: 'out-of-memory', requestedBytes: 5, availableBytes: 3, batchSize: 8 }],
    ['BadInputError', new BadInputError('y', { imageIndex: 2, filename: 'a.jpg' }), { name: 'BadInputError', code: 'bad-input', imageIndex: 2, filename: 'a.jpg' }],
    ['TransientError', new TransientError('z'), { name: 'TransientError', code: 'transient' }],
  ])('%s carries its own name, its code and fields', (_name, err, fields) => {
    expect(err).toBeInstanceOf(GpuqError);
    expect(err).toMatchObject(fields);
  });
});
