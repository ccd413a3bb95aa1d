export * from './calibration/calibrate.js';
export * from './calibration/calibrate-model.js';
export * from './calibration/measure-batch.js';
export * from './calibration/retime.js';
export * from './memory/device-memory.js';
export * from './probe/check-variants.js';
export * from './probe/nvidia-smi.js';
export * from './probe/probe-device.js';
