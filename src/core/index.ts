/**
 * The sans-IO core: states, sequence arithmetic, segments, the transition table, the
 * RFC 9293 endpoint and its profiles. No I/O, no clock.
 */
export * from './errors.js';
export * from './states.js';
export * from './seq.js';
export * from './segment.js';
export * from './transitions.js';
export * from './profile.js';
export * from './rto.js';
export * from './endpoint.js';
