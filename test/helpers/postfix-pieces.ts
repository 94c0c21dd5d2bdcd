// The shipped Postfix pieces (src/mta/postfix-pieces.ts, src/mta/shipped-config.ts), where the
// tests have always found them.
export { mainPieces, mainPiecesForMilter, serviceOptions, submissionListener } from '../../src/mta/postfix-pieces.js';
