// EX_LPS_1200 step 3: the mailbox is the login of the PLAIN mechanism (RFC 4616:
// [authzid] NUL authcid NUL password), of SMTP AUTH LOGIN, or of the IMAP LOGIN command.
// The password is not used: the Référentiel defines none for AUTH-CLI, the certificate is
// the credential.

/** The authcid of a base64 SASL PLAIN response; undefined if malformed or authzid ≠ authcid. */
export function plainLogin(base64: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return undefined;
  const parts = Buffer.from(base64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return undefined;
  const [authzid = '', authcid = ''] = parts;
  if (authcid === '' || (authzid !== '' && authzid.toLowerCase() !== authcid.toLowerCase())) return undefined;
  return authcid;
}

export function base64Text(base64: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return undefined;
  return Buffer.from(base64, 'base64').toString('utf8');
}

/** PLAIN response Dovecot/Postfix receive from the front: the mailbox and a ticket. */
export function plainResponse(mailbox: string, ticket: string): string {
  return Buffer.from(`\0${mailbox}\0${ticket}`, 'utf8').toString('base64');
}

/**
 * The arguments of an IMAP command line after the command name: atoms and quoted strings
 * (RFC 3501). Literals are not accepted before login; undefined when the line has one or is
 * malformed.
 */
export function imapArguments(rest: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < rest.length) {
    if (rest[i] === ' ') {
      i += 1;
      continue;
    }
    if (rest[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= rest.length) return undefined;
        const c = rest[i] as string;
        if (c === '\\') {
          value += rest[i + 1] ?? '';
          i += 2;
        } else if (c === '"') {
          i += 1;
          break;
        } else {
          value += c;
          i += 1;
        }
      }
      out.push(value);
    } else {
      const end = rest.indexOf(' ', i);
      const atom = end < 0 ? rest.slice(i) : rest.slice(i, end);
      if (/^\{\d+\+?\}$/.test(atom)) return undefined;
      out.push(atom);
      i = end < 0 ? rest.length : end;
    }
  }
  return out;
}
