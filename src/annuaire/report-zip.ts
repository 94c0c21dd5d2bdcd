// The report's ZIP (§6.4.2.5): `cralimentationmss_<ticket>_AAAAMMJJHHmmss.xml` and its
// `…_checksum.txt` (SHA-256 of the XML). The checksum is checked whenever it is there
// (the Référentiel makes checking optional; a mismatch means a corrupt report, never used).
// Sizes are bounded before inflating (ZIP bombs).
import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import { MssError } from '../errors.js';
import { REPORT_CHECKSUM_FILE, REPORT_XML_FILE } from './contract.js';

export interface ReportFile {
  xmlName: string;
  xml: Buffer;
  /** Ticket and date read from the file name (AAAAMMJJHHmmss). */
  nameTicket?: string;
  nameDate?: string;
  checksum: { status: 'ok' | 'absent'; sha256: string };
}

export function openReportZip(zip: Uint8Array, ticket: string, maxBytes: number): ReportFile {
  let files: Record<string, Uint8Array>;
  let tooBig: string | undefined;
  try {
    files = unzipSync(zip, {
      filter: (f) => {
        if (f.originalSize > maxBytes) tooBig = f.name;
        return f.originalSize <= maxBytes && (REPORT_XML_FILE.test(baseName(f.name)) || REPORT_CHECKSUM_FILE.test(baseName(f.name)));
      },
    });
  } catch (err) {
    throw new MssError('ANNUAIRE_REPORT_ZIP', `the report of ticket ${ticket} is not a readable ZIP: ${(err as Error).message}`, { ticket });
  }
  if (tooBig)
    throw new MssError('ANNUAIRE_REPORT_TOO_LARGE', `the report of ticket ${ticket} holds ${tooBig}, larger than annuaire.maxReportBytes (${maxBytes})`, {
      ticket,
    });
  const names = Object.keys(files);
  const xmlName = names.find((n) => REPORT_XML_FILE.test(baseName(n)));
  if (!xmlName)
    throw new MssError(
      'ANNUAIRE_REPORT_ZIP',
      `the report ZIP of ticket ${ticket} has no cralimentationmss_<ticket>_<date>.xml (found: ${names.join(', ') || 'nothing usable'})`,
      { ticket },
    );
  const xml = Buffer.from(files[xmlName] as Uint8Array);
  if (xml.length > maxBytes)
    throw new MssError('ANNUAIRE_REPORT_TOO_LARGE', `the report of ticket ${ticket} inflates beyond annuaire.maxReportBytes (${maxBytes})`, { ticket });
  const sha256 = createHash('sha256').update(xml).digest('hex');
  const sumName = names.find((n) => REPORT_CHECKSUM_FILE.test(baseName(n)));
  let status: 'ok' | 'absent' = 'absent';
  if (sumName) {
    const expected = /\b[0-9a-fA-F]{64}\b/.exec(Buffer.from(files[sumName] as Uint8Array).toString('latin1'))?.[0]?.toLowerCase();
    if (expected !== sha256) {
      throw new MssError(
        'ANNUAIRE_REPORT_CHECKSUM',
        `the report of ticket ${ticket} does not match its checksum file (${sumName}: ${expected ?? 'no SHA-256 in it'}, computed ${sha256}); the report is not used`,
        { ticket, expected, actual: sha256 },
      );
    }
    status = 'ok';
  }
  const m = REPORT_XML_FILE.exec(baseName(xmlName));
  return { xmlName, xml, ...(m ? { nameTicket: m[1] as string, nameDate: m[2] as string } : {}), checksum: { status, sha256 } };
}

function baseName(n: string): string {
  return n.slice(n.lastIndexOf('/') + 1);
}
