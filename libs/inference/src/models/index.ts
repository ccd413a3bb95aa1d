export * from './manifest.js';
export * from './ppocr-det/box-score.js';
export * from './ppocr-det/connected-components.js';
export * from './ppocr-det/db-postprocess-options.js';
export * from './ppocr-det/db-postprocess.js';
export * from './ppocr-det/min-area-rect.js';
export * from './ppocr-det/preprocess.js';
export * from './ppocr-det/reading-order.js';
