// The gate's own Received header (RFC 5321 §4.4): Postfix, behind XCLIENT, cannot know the
// TLS session or the certificate, so the gate records them where a human reading the
// message will look: protocol, suite and the verified certificate DN.

function ascii(s: string): string {
  // Header text stays 7-bit whatever the DN says (Bouches-du-Rhône → Bouches-du-Rhone).
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/[()\\]/g, '');
}

export function receivedHeader(o: { helo: string; address: string; by: string; protocol: string; cipher: string; dn: string; id: string; at?: Date }): Buffer {
  const date = (o.at ?? new Date()).toUTCString().replace('GMT', '+0000');
  return Buffer.from(
    `Received: from ${ascii(o.helo) || 'unknown'} ([${o.address}])\r\n` +
      `\tby ${o.by} (mss-sidecar gate-in) with ESMTPS id ${o.id}\r\n` +
      `\t(${ascii(o.protocol)} ${ascii(o.cipher)}; client certificate verified: ${ascii(o.dn)});\r\n` +
      `\t${date}\r\n`,
  );
}
