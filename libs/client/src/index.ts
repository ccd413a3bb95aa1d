export * from './gpuq-client.js';
