// The shipped Postfix pieces (sandbox/mta/postfix-pieces.ts, sandbox/mta/shipped-config.ts), where the
// tests have always found them.
export { mainPieces, mainPiecesForMilter, serviceOptions, submissionListener } from '../../sandbox/mta/postfix-pieces.js';
