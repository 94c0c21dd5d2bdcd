// Envelope addresses as the gates judge them: the domain part, lowercased (domains are
// compared in lower case in the liste blanche), and the local part for the test-BAL rule.

export interface SplitAddress {
  local: string;
  /** Lowercase; '' when the address has no domain. */
  domain: string;
}

export function splitAddress(address: string): SplitAddress {
  const at = address.lastIndexOf('@');
  if (at < 0) return { local: address, domain: '' };
  return { local: address.slice(0, at), domain: address.slice(at + 1).toLowerCase().replace(/\.$/, '') };
}

/** xtext (RFC 3461 §4): what XCLIENT, XFORWARD, ORCPT and ENVID values are written in. */
export function xtext(value: string): string {
  return Buffer.from(value, 'utf8')
    .reduce<string[]>((out, b) => {
      out.push(b < 33 || b > 126 || b === 0x2b || b === 0x3d ? `+${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b));
      return out;
    }, [])
    .join('');
}
