/** Injected time and randomness, and invariant checks. */
export * from './clock.js';
export * from './random.js';
export * from './assert.js';
