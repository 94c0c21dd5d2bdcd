// Milter commands the submission rules answer (MAIL, RCPT, end of headers, end of message):
// the decisions the benchmark times, inside the server and at the proxy.
export const DECISION_CODES = 'MRNE';
