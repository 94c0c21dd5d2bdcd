// STARTTLS on the client side of a line protocol (SMTP, IMAP): the plain socket stops
// feeding the line reader, TLS is negotiated over it, and the caller reads from the secure
// socket from then on. Certificates are not verified here (tests and the sandbox talk to
// their own loopback servers); pass `rejectUnauthorized: true` and a `ca` to verify.
import type net from 'node:net';
import tls from 'node:tls';

export async function upgradeToTls(plain: net.Socket, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  plain.removeAllListeners('data');
  plain.removeAllListeners('close');
  const secure = tls.connect({ socket: plain, rejectUnauthorized: false, ...options });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  return secure;
}
