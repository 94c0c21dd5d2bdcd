// Connections counted from Postfix's own log, for the gates bench: each new connection costs
// round trips (greeting, EHLO/LHLO, STARTTLS and a TLS handshake between operators), so the
// figure says how much of a run went into opening connections rather than sending mail.
//  - an lmtp/smtp delivery line with `conn_use=N` went over a connection reused from
//    Postfix's connection cache (scache); one without it opened a new connection;
//  - an smtpd `connect from` line is one connection accepted.

export interface ClientConnections {
  deliveries: number;
  /** Deliveries over a new connection. */
  opened: number;
}

/** The deliveries of one Postfix client service (`postfix/mss-gate-out/lmtp`, `postfix/smtp`) in a piece of maillog. */
export function clientConnections(log: string, service: string): ClientConnections {
  let deliveries = 0;
  let opened = 0;
  const prefix = ` ${service}[`;
  for (const line of log.split('\n')) {
    if (!line.includes(prefix) || !line.includes(' status=')) continue;
    deliveries++;
    if (!/ conn_use=\d+/.test(line)) opened++;
  }
  return { deliveries, opened };
}

/** Connections one smtpd service (`postfix/mss-gate-in/smtpd`, `postfix/smtpd`) accepted in a piece of maillog. */
export function serverConnections(log: string, service: string): number {
  const marker = ` ${service}[`;
  return log.split('\n').filter((l) => l.includes(marker) && /\]: connect from /.test(l)).length;
}
