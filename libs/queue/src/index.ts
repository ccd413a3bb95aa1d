export * from './class-consumer.js';
export * from './class-queues.js';
export * from './job-record.repository.js';
export * from './keys.js';
export * from './profile.repository.js';
export * from './redis-connection.js';
export * from './worker-registry.js';
