// Which certificate may sign the liste blanche (EX_2.2_5050: "émis par l'ANS et attribué à
// l'ANS"). "Issued by" is the PKIX path to the IGC-Santé store; "attributed to" is this:
// subject attributes the signer must carry, from whitelist.signer.subject. A pattern lists
// attribute types with accepted values; every listed type must carry one of its values.
// Several patterns: any one may match (e.g. during a change of signing certificate).
import { canonicalValue, dnValues, type Dn } from '../pki/dn.js';

export type SubjectPattern = Readonly<Record<string, readonly string[]>>;
export type SignerSubject = SubjectPattern | readonly SubjectPattern[];

export function patternsOf(subject: SignerSubject): readonly SubjectPattern[] {
  return Array.isArray(subject) ? (subject as readonly SubjectPattern[]) : [subject as SubjectPattern];
}

function patternMatches(dn: Dn, pattern: SubjectPattern): boolean {
  const types = Object.keys(pattern);
  if (types.length === 0) return false; // an empty pattern would accept any IGC-Santé certificate
  return types.every((type) => {
    const have = new Set(dnValues(dn, type).map(canonicalValue));
    return (pattern[type] ?? []).some((v) => have.has(canonicalValue(v)));
  });
}

export function signerMatches(dn: Dn, subject: SignerSubject): boolean {
  return patternsOf(subject).some((p) => patternMatches(dn, p));
}

export function describeSignerSubject(subject: SignerSubject): string {
  return patternsOf(subject)
    .map((p) => Object.entries(p).map(([t, vs]) => `${t}∈{${vs.join(' | ')}}`).join(' and '))
    .join(' or ');
}
