export * from './provider-probe.js';
export * from './self-test.js';
export * from './self-test-tolerance.js';
