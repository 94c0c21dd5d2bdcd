// A liste blanche of the published list's shape and size (FACTS.md: ~3.7 MB, ~6,500 Domaine
// entries, one Domaine per (domain, DN), UTF-8 DNs, some quoted values with double spaces,
// enveloped XMLDSig exc-c14n RSA-SHA256), for the benchmarks. Unsigned; sign it with
// signWhitelistXml.
import { LIST_NS } from '../../src/whitelist/xml-bytes.js';

const DEPARTMENTS = ['Bouches-du-Rhône (13)', 'Paris (75)', 'Hauts-de-Seine (92)', 'Nord (59)', 'Rhône (69)', 'Finistère (29)', 'Hérault (34)'];

export interface ListShape {
  entries: number;
  operators: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Operator DNs as the list writes them (CN first), some with RFC 1779 quoted values. */
export function operatorDns(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const ou = i % 2 ? `3${String(i * 7919).padStart(14, '0')}` : `1${String(i * 7919).padStart(9, '0')}`;
    const o = i % 5 === 0 ? `"CENTRE  HOSPITALIER ${i}"` : `OPERATEUR DE SANTÉ ${i}`;
    return `CN=smtp-${i}.operateur-${i}.fr,OU=${ou},O=${o},ST=${DEPARTMENTS[i % DEPARTMENTS.length]},C=FR`;
  });
}

/** The unsigned list: `shape.entries` Domaine elements over `shape.operators` DNs. */
export function realShapeList(shape: ListShape = { entries: 6_500, operators: 420 }, generated = '2025-03-13T14:54:10Z'): string {
  const dns = operatorDns(shape.operators);
  const parts: string[] = [];
  for (let i = 0; i < shape.entries; i++) {
    parts.push(`        <Domaine>
            <Nom>${i % 3 ? 'ch-' : 'clinique-'}${i}-13.mssante.fr</Nom>
            <Description>${esc(`Messagerie sécurisée de l'établissement numéro ${i}`)}</Description>
            <DNCertificatOperateur>${esc(dns[i % dns.length] as string)}</DNCertificatOperateur>
            <ResponsableContact>responsable-${i}@etablissement-${i}.fr ; 01 23 45 ${String(i % 100).padStart(2, '0')} 67</ResponsableContact>
            <SupportContact>support-mssante-${i}@operateur-${i % shape.operators}.fr</SupportContact>
            <DateMAJ>2025-01-27T15:49:34Z</DateMAJ>
        </Domaine>
`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="${LIST_NS}">
    <DateDeGeneration>${generated}</DateDeGeneration>
    <ListeDomaines>
${parts.join('')}    </ListeDomaines>
</ListeBlancheMSSante>`;
}
