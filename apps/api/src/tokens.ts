/** Injection tokens for values that are not classes. */
export const CONFIG = Symbol('CONFIG');
export const REDIS = Symbol('REDIS');
export const BLOB_STORE = Symbol('BLOB_STORE');
export const LOGGER = Symbol('LOGGER');
