// Attribute types of distinguished names: one canonical short name per OID, and every
// spelling a DN string may use for it (RFC 4514 §3, RFC 4519, PKCS #9, and the aliases
// OpenSSL and Windows print). Unknown types stay as their dotted OID.

interface AttributeType {
  oid: string;
  /** Canonical name, used in canonical forms and when formatting. */
  name: string;
  aliases: string[];
}

const TYPES: AttributeType[] = [
  { oid: '2.5.4.3', name: 'CN', aliases: ['commonName'] },
  { oid: '2.5.4.4', name: 'SN', aliases: ['surname'] },
  { oid: '2.5.4.5', name: 'SERIALNUMBER', aliases: ['serialNumber'] },
  { oid: '2.5.4.6', name: 'C', aliases: ['countryName'] },
  { oid: '2.5.4.7', name: 'L', aliases: ['localityName'] },
  { oid: '2.5.4.8', name: 'ST', aliases: ['S', 'stateOrProvinceName'] },
  { oid: '2.5.4.9', name: 'STREET', aliases: ['streetAddress'] },
  { oid: '2.5.4.10', name: 'O', aliases: ['organizationName'] },
  { oid: '2.5.4.11', name: 'OU', aliases: ['organizationalUnitName'] },
  { oid: '2.5.4.12', name: 'TITLE', aliases: ['T'] },
  { oid: '2.5.4.17', name: 'POSTALCODE', aliases: [] },
  { oid: '2.5.4.42', name: 'GN', aliases: ['givenName', 'G'] },
  { oid: '2.5.4.43', name: 'INITIALS', aliases: [] },
  { oid: '2.5.4.44', name: 'GENERATIONQUALIFIER', aliases: [] },
  { oid: '2.5.4.46', name: 'DNQUALIFIER', aliases: [] },
  { oid: '2.5.4.65', name: 'PSEUDONYM', aliases: [] },
  { oid: '2.5.4.97', name: 'ORGANIZATIONIDENTIFIER', aliases: [] },
  { oid: '0.9.2342.19200300.100.1.1', name: 'UID', aliases: ['userid'] },
  { oid: '0.9.2342.19200300.100.1.25', name: 'DC', aliases: ['domainComponent'] },
  { oid: '1.2.840.113549.1.9.1', name: 'EMAILADDRESS', aliases: ['E', 'EMAIL'] },
];

const byOid = new Map<string, string>();
const byName = new Map<string, string>();
for (const t of TYPES) {
  byOid.set(t.oid, t.name);
  byName.set(t.name.toUpperCase(), t.name);
  byName.set(t.oid, t.name);
  for (const a of t.aliases) byName.set(a.toUpperCase(), t.name);
}

const NUMERIC_OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const DESCR = /^[A-Za-z][A-Za-z0-9-]*$/;

/** Canonical name of an attribute type as written in a DN string, or undefined if invalid. */
export function canonicalTypeName(written: string): string | undefined {
  let t = written;
  // RFC 1779 allowed an "OID." prefix before a dotted OID.
  if (/^oid\./i.test(t)) t = t.slice(4);
  const known = byName.get(t.toUpperCase());
  if (known) return known;
  if (NUMERIC_OID.test(t)) return t;
  if (DESCR.test(t)) return t.toUpperCase();
  return undefined;
}

/** Canonical name for an OID read from a certificate. */
export function typeNameForOid(oid: string): string {
  return byOid.get(oid) ?? oid;
}
