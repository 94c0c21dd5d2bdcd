// The MTA side of the milter protocol for tests (src/milter/mta-client.ts), under the name
// the tests have always used.
export { MilterClient as FakeMta, POSTFIX_V6_OFFER, runTransaction, type Transaction } from '../../src/milter/mta-client.js';
