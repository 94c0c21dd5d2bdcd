// Reading trace records (src/traces/read.ts), where the tests have always found it.
export { traceLines, type TraceLine } from '../../src/traces/read.js';
