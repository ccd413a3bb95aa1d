export * from './capability.js';
export * from './class.js';
export * from './job.js';
export * from './precision.js';
export * from './profile.js';
export * from './requirement.js';
export * from './submit.schema.js';
export * from './image-format.js';
