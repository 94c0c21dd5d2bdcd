// The unsigned liste blanche the sandbox publishes, in the published shape: the simulated
// operators' domains under their certificate DNs, plus entries every operator meets in
// real life: dgs.mssante.fr (accepted even for bulk sending, §6.7.1) and
// interop-mssante.apicrypt.org (an MSSanté domain outside mssante.fr, §2.7). Listed without
// certificates, as the list may name operators that have not generated theirs yet (§6.6).

/**
 * The namespace of the list (DR1 listeblanchemssante.xsd, §9.5, is not in the text): the one
 * the ANS's published file uses. The sandbox keeps its own copy rather than the client's
 * constant, so that a client that misspelt it would refuse the sandbox list and fail its tests.
 */
export const LIST_NAMESPACE = 'https://listeblanche.mssante.fr/schema';

export interface ListEntry {
  domain: string;
  dn: string;
  description: string;
}

export const EXTRA_SANDBOX_ENTRIES: readonly ListEntry[] = [
  {
    domain: 'dgs.mssante.fr',
    dn: 'CN=mss.dgs.sandbox.invalid,OU=318751275100020,O=AGENCE DU NUMERIQUE EN SANTE,ST=Paris (75),C=FR',
    description: 'Direction Générale de la Santé (sandbox)',
  },
  {
    domain: 'interop-mssante.apicrypt.org',
    dn: 'CN=interop-mssante.apicrypt.sandbox.invalid,OU=347891224500026,O=APICEM,ST=Nord (59),C=FR',
    description: 'Passerelle Apicrypt (sandbox)',
  },
];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function xsdDateTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** An unsigned list in the published shape (indented like the ANS file). */
export function buildWhitelistXml(entries: readonly ListEntry[], generated = new Date()): string {
  const when = xsdDateTime(generated);
  const domaines = entries
    .map(
      (e) => `        <Domaine>
            <Nom>${esc(e.domain)}</Nom>
            <Description>${esc(e.description)}</Description>
            <DNCertificatOperateur>${esc(e.dn)}</DNCertificatOperateur>
            <ResponsableContact>sandbox</ResponsableContact>
            <SupportContact>sandbox</SupportContact>
            <DateMAJ>${when}</DateMAJ>
        </Domaine>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="${LIST_NAMESPACE}">
    <DateDeGeneration>${when}</DateDeGeneration>
    <ListeDomaines>
${domaines}
    </ListeDomaines>
</ListeBlancheMSSante>`;
}

/** Entries for operators: one per (domain, operator DN). */
export function operatorEntries(operators: ReadonlyArray<{ subject: string; organisation: string; domains: readonly string[] }>): ListEntry[] {
  return operators.flatMap((op) => op.domains.map((domain) => ({ domain, dn: op.subject, description: `Domaine de messagerie MSSanté ${op.organisation}` })));
}
