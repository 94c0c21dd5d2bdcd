// PROXY protocol v1 header (HAProxy's text form), understood by Dovecot 2.3
// (`haproxy = yes` on a listener) and Postfix (`smtpd_upstream_proxy_protocol = haproxy`):
// it gives the backend the LPS's own address, which the front would otherwise hide.
import net from 'node:net';

/** An IPv4 client of a dual-stack listener as its plain IPv4 address. */
export const unmapAddress = (address: string): string => (address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address);

export function proxyV1Header(socket: net.Socket): string {
  const src = unmapAddress(socket.remoteAddress ?? '');
  const dst = unmapAddress(socket.localAddress ?? '');
  const family = net.isIPv4(src) && net.isIPv4(dst) ? 'TCP4' : net.isIPv6(src) && net.isIPv6(dst) ? 'TCP6' : undefined;
  if (!family || socket.remotePort === undefined || socket.localPort === undefined) return 'PROXY UNKNOWN\r\n';
  return `PROXY ${family} ${src} ${dst} ${socket.remotePort} ${socket.localPort}\r\n`;
}
