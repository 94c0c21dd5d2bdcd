// Envelope addresses as the gates judge them: the domain part, lowercased (domains are
// compared in lower case in the liste blanche), the local part for the test-BAL rule, and
// xtext for the parameters the gates pass on.

// One way to split an envelope address for the submission rules and the gates.
export { splitAddress, type SplitAddress } from '../submission/address.js';

/** xtext (RFC 3461 §4): what XCLIENT, XFORWARD, ORCPT and ENVID values are written in. */
export function xtext(value: string): string {
  return Buffer.from(value, 'utf8')
    .reduce<string[]>((out, b) => {
      out.push(b < 33 || b > 126 || b === 0x2b || b === 0x3d ? `+${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b));
      return out;
    }, [])
    .join('');
}
