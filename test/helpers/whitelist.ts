// Signed sandbox lists for tests.
import type { PkiManifest } from '../../sandbox/pki.js';
import { signWhitelistXml, type SignerMaterial, type SignVariant } from '../../sandbox/sign-whitelist.js';
import { buildWhitelistXml, EXTRA_SANDBOX_ENTRIES, operatorEntries, type ListEntry } from '../../sandbox/whitelist-data.js';
import { material } from './pki.js';

export function sandboxEntries(pki: PkiManifest): ListEntry[] {
  return [...operatorEntries(pki.operators), ...EXTRA_SANDBOX_ENTRIES];
}

/** The sandbox list (or `xml`), signed by `signer` (default: the sandbox ANS signer). */
export function signedList(
  pki: PkiManifest,
  opts: { entries?: ListEntry[]; signer?: SignerMaterial; variant?: SignVariant; xml?: string; generated?: Date } = {},
): string {
  const xml = opts.xml ?? buildWhitelistXml(opts.entries ?? sandboxEntries(pki), opts.generated);
  return signWhitelistXml(xml, opts.signer ?? material(pki.ansSigner), opts.variant);
}
