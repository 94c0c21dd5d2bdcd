// Free loopback ports (src/util/free-port.ts), where the tests have always found them.
export { freePort, freePorts } from '../../src/util/free-port.js';
