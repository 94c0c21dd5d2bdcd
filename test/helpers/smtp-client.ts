// The raw SMTP client (sandbox/mta/smtp-client.ts), where the tests have always found it.
export { SmtpClient, message, type Reply } from '../../sandbox/mta/smtp-client.js';
