export * from './models/index.js';
export * from './onnx/index.js';
export * from './self-test/index.js';
export * from './runtime/session-cache.js';
export * from './runtime/session-options.js';
export * from './runtime/session-thread.js';
export * from './runtime/text-detector.js';
