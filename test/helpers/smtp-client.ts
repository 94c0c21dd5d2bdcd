// The raw SMTP test driver (sandbox/mta/smtp-client.ts), where the tests have always found it.
export { SmtpClient, message, type RawReply } from '../../sandbox/mta/smtp-client.js';
