export * from './inspect-image.js';
export * from './sniff-format.js';
