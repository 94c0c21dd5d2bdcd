// The raw SMTP client (src/mta/smtp-client.ts), where the tests have always found it.
export { SmtpClient, message, type Reply } from '../../src/mta/smtp-client.js';
