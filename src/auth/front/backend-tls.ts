// STARTTLS from a TLS-terminating front to its loopback backend (Postfix 687, Dovecot 243),
// resuming one TLS session for every connection of the front (issue 20).
//
// Why resume: Postfix's smtpd leaves Nagle's algorithm on, and after a full TLS 1.3 handshake
// it writes a session ticket (NewSessionTicket) by itself, just after reading the client's
// Finished. The front has already sent its EHLO, so nothing it sends acknowledges the ticket,
// and Linux delays that ACK by 40 ms; Postfix's EHLO reply, the next small write, waits for it
// (Nagle holds a small segment while one is unacknowledged). Every SMTP login paid those 40 ms
// (strace of smtpd: the reply written 0.2 ms after the EHLO, the front's AUTH read 40 ms later).
// A resumed handshake gets no new ticket from Postfix (its ticket callback renews a ticket
// only when its key is retired), so nothing precedes the reply; it also skips the server's
// signature and the certificate the front would parse, on both sides of every login.
//
// Resumption skips no check of ours: the fronts never judge the backend's certificate (a
// loopback port below 1024 that only Postfix's and Dovecot's masters can bind, docs/install.md
// "The perimeter"), and a ticket is only usable with the backend's own ticket key. TLS 1.3
// resumption keeps an (EC)DHE exchange (OpenSSL's psk_dhe_ke), so each connection still has
// its own keys. A full handshake happens when no session is held yet (the front's Postfix
// probe makes the first one, before any login), or when the backend refuses the ticket
// (expired, key rotated): its new ticket replaces the old one.
import tls from 'node:tls';
import { MSS_ECDH_CURVES } from '../../pki/tls-profile.js';
import type { LineSocket } from './line-socket.js';

export class BackendTlsClient {
  /**
   * One client context for every connection (Node builds a new one for each `tls.connect`
   * without it: about 0.3 ms of CPU per login). P-256 first: the key share the shipped
   * Postfix and Dovecot pieces accept (mss_submission_tls_curves), so no HelloRetryRequest
   * and its extra round trip; X25519 stays offered for a backend configured otherwise.
   */
  private readonly context = tls.createSecureContext({ minVersion: 'TLSv1.2', ecdhCurve: `${MSS_ECDH_CURVES}:X25519` });
  /** The newest session the backend gave us (a TLS 1.3 ticket, or a TLS 1.2 session). */
  private session: Buffer | undefined;
  /** Handshakes made, and how many of them resumed the held session (tests, figures). */
  handshakes = 0;
  resumed = 0;

  /** STARTTLS as the client of the backend (its certificate is the entry point's own, not judged here). */
  async upgrade(socket: LineSocket, handshakeMs: number): Promise<tls.TLSSocket> {
    const offered = this.session;
    let secure: tls.TLSSocket;
    try {
      const options = { secureContext: this.context, rejectUnauthorized: false, ...(offered ? { session: offered } : {}) };
      secure = await socket.upgradeAsClient(options, handshakeMs, (s) =>
        // Before the handshake completes: TLS 1.2 gives its session during it, TLS 1.3 after.
        s.on('session', (ticket: Buffer) => (this.session = ticket)),
      );
    } catch (err) {
      // A session the backend chokes on must not fail the next login too.
      if (offered && this.session === offered) this.session = undefined;
      throw err;
    }
    this.handshakes += 1;
    if (secure.isSessionReused()) this.resumed += 1;
    return secure;
  }
}
