export * from './executed-dtype.js';
export * from './provider-probe.js';
export * from './self-test.js';
export * from './self-test-tolerance.js';
