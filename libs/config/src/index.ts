export * from './config.schema.js';
export * from './load-config.js';
export * from './logger.js';
export * from './local-key-file.js';
