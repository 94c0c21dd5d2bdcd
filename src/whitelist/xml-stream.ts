// The liste blanche read in one pass, without building its tree: as saxes reads it, the
// signed content goes to the canonicalizer and SHA-256 (the enveloped-signature transform and
// exc-c14n with no InclusiveNamespaces, the form the ANS uses) and to the few fields this code
// reads, from the same events; only the Signature (a child of the root) is built as a tree,
// for its checks. A tree of the 6,500 entries costs more to build and collect than the rest of
// the verification; this does not, and holds much less memory.
//
// What is read is exactly what is digested: both come from the same elements and character
// data, and the Signature is left out of both. A list whose Reference names an
// InclusiveNamespaces PrefixList is verified by the tree path instead (verify.ts).
import { createHash } from 'node:crypto';
import { ExclusiveC14nStream } from './c14n.js';
import type { DomaineFields } from './content.js';
import type { SignatureLocation } from './signature.js';
import { DSIG_NS, LIST_NS } from './xml-bytes.js';
import { appendText, readXml, type XmlCodes, type XmlElement, type XmlLimits } from './xml-tree.js';

export interface StreamedList {
  /** The root element; its only children here are the Signature elements found under it. */
  readonly root: XmlElement;
  /** How many children of the root in the list namespace bear each local name. */
  readonly rootChildren: ReadonlyMap<string, number>;
  readonly signatures: SignatureLocation;
  /** SHA-256 of the exclusive canonical form of the root without its Signature (no PrefixList). */
  readonly digest: Buffer;
  /** Own text of the first DateDeGeneration / versionFormat child of the root. */
  readonly generated?: string;
  readonly versionFormat?: string;
  /** The Domaine children of the first ListeDomaines, in order. */
  readonly domaines: readonly DomaineFields[];
}

type Field = 'Nom' | 'DNCertificatOperateur' | 'Description' | 'DateMAJ';
const FIELDS: ReadonlySet<string> = new Set<Field>(['Nom', 'DNCertificatOperateur', 'Description', 'DateMAJ']);

function isSignature(el: XmlElement): boolean {
  return el.local === 'Signature' && el.uri === DSIG_NS;
}

export function streamList(text: string, source: string, limits: XmlLimits, codes: XmlCodes): StreamedList {
  const hash = createHash('sha256');
  let pending: string[] = [];
  let size = 0;
  const c14n = new ExclusiveC14nStream((piece) => {
    pending.push(piece);
    size += piece.length;
    if (size >= 65_536) {
      hash.update(pending.join(''), 'utf8');
      pending = [];
      size = 0;
    }
  });
  const rootChildren = new Map<string, number>();
  const signatures: { count: number; enveloped?: XmlElement; firstParent?: string } = { count: 0 };
  let inSignature: XmlElement | undefined;
  let generatedEl: XmlElement | undefined;
  let versionEl: XmlElement | undefined;
  let liste: XmlElement | undefined;
  let generated: string | undefined;
  let versionFormat: string | undefined;
  const domaines: DomaineFields[] = [];
  let domaine: { el: XmlElement; fields: DomaineFields } | undefined;
  let field: { el: XmlElement; name: Field; text: string } | undefined;

  const root = readXml(text, source, limits, codes, {
    open(el) {
      if (isSignature(el)) {
        signatures.count++;
        signatures.firstParent ??= el.parent?.local;
      }
      if (inSignature) {
        el.parent?.children.push(el);
        return;
      }
      if (el.depth === 2 && isSignature(el)) {
        // The enveloped-signature transform: left out of the digest, kept for its checks.
        inSignature = el;
        signatures.enveloped ??= el;
        el.parent?.children.push(el);
        return;
      }
      c14n.open(el);
      if (el.depth === 2 && el.uri === LIST_NS) {
        rootChildren.set(el.local, (rootChildren.get(el.local) ?? 0) + 1);
        if (el.local === 'DateDeGeneration') generatedEl ??= el;
        else if (el.local === 'versionFormat') versionEl ??= el;
        else if (el.local === 'ListeDomaines') liste ??= el;
      } else if (el.depth === 3 && el.parent === liste && el.local === 'Domaine' && el.uri === LIST_NS) {
        domaine = { el, fields: { noms: [], dns: [] } };
      } else if (el.depth === 4 && domaine && el.parent === domaine.el && el.uri === LIST_NS && FIELDS.has(el.local)) {
        field = { el, name: el.local as Field, text: '' };
      }
    },
    text(el, data) {
      if (inSignature) {
        appendText(el, data);
        return;
      }
      c14n.text(data);
      if (field?.el === el) field.text += data;
      else if (el === generatedEl) generated = (generated ?? '') + data;
      else if (el === versionEl) versionFormat = (versionFormat ?? '') + data;
    },
    close(el) {
      if (inSignature) {
        if (el === inSignature) inSignature = undefined;
        return;
      }
      c14n.close(el);
      if (field?.el === el && domaine) {
        const f = domaine.fields;
        if (field.name === 'Nom') f.noms.push(field.text);
        else if (field.name === 'DNCertificatOperateur') f.dns.push(field.text);
        else if (field.name === 'Description') f.description ??= field.text;
        else f.dateMaj ??= field.text;
        field = undefined;
      } else if (domaine?.el === el) {
        domaines.push(domaine.fields);
        domaine = undefined;
      } else if (el === generatedEl) generated ??= '';
      else if (el === versionEl) versionFormat ??= '';
    },
  });
  hash.update(pending.join(''), 'utf8');
  return {
    root,
    rootChildren,
    signatures,
    digest: hash.digest(),
    ...(generated !== undefined ? { generated } : {}),
    ...(versionFormat !== undefined ? { versionFormat } : {}),
    domaines,
  };
}
