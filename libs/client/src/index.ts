export * from './gpuq-api-error.js';
export * from './gpuq-client.js';
export * from './routes.js';
export * from './sse.js';
