// A synthetic month for the statistics: a registry covering every case of EX_PSU_5820 and
// EX_SSU_5800, and journal events covering every case of the Echanges rules (multi-recipient,
// retried, bounced, never sent, local delivery, patient addresses, null sender, received
// mail, missing headers, values and an address with `;`, line breaks, month boundaries in the operator's
// zone). The sandbox self-check builds "last month" from it; the golden tests build March
// 2025 (a DST change in Europe/Paris) and compare with test/fixtures/stats/.
import { stringify } from 'yaml';
import type { JournalEvent } from '../src/journal/events.js';
import { addMonths, type MonthRange } from '../src/stats/month.js';

const FINESS = { type: 'FINESS', id: '130000001' };
const day = (range: MonthRange, offsetDays: number): string => {
  const d = new Date(range.startMs + 12 * 3_600_000 + offsetDays * 86_400_000);
  return d.toISOString().slice(0, 10);
};
const per = (address: string, first: string, last: string, idNat: string, created: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  address,
  type: 'PER',
  created,
  holder: { idNat, lastName: last, firstName: first },
  structure: FINESS,
  ...extra,
});

/** Mailboxes of the first domain (every case), and an auto-reply plus one PER on the others. */
export function statsRegistryEntries(domains: readonly string[], range: MonthRange): Array<Record<string, unknown>> {
  const [d, ...others] = domains as [string, ...string[]];
  const before = `${range.year - 1}-06-01`;
  const prev = addMonths(range, -1);
  const prevMid = `${prev.year}-${String(prev.month).padStart(2, '0')}-15`;
  const out: Array<Record<string, unknown>> = [];
  for (const dom of domains) {
    out.push({
      address: `reponse.automatique-test@${dom}`,
      type: 'APP',
      created: before,
      test: true,
      structure: FINESS,
      responsible: { name: 'Service informatique' },
      description: 'Réponse automatique',
    });
  }
  out.push(
    per(`jean.dupont@${d}`, 'Jean', 'Dupont', '810000000001', before),
    per(`marie.martin@${d}`, 'Marie', 'Martin', '810000000002', day(range, 9)),
    {
      address: `secretariat.cardio@${d}`,
      type: 'ORG',
      created: before,
      structure: FINESS,
      responsible: { name: 'Dr Chef de service' },
      description: 'Secrétariat de cardiologie',
    },
    { address: `dpi.urgences@${d}`, type: 'APP', created: before, structure: FINESS, responsible: { name: 'DSI' }, description: 'DPI des urgences' },
    per(`paul.durand@${d}`, 'Paul', 'Durand', '810000000003', before, { status: 'suspended', suspension: { at: prevMid, reason: 'départ en congé' } }),
    per(`luc.bernard@${d}`, 'Luc', 'Bernard', '810000000004', before, { status: 'suspended', suspension: { at: day(range, 19), reason: 'départ en congé' } }),
    per(`anne.petit@${d}`, 'Anne', 'Petit', '810000000005', before, { status: 'deleted', deletion: { at: prevMid, reason: 'départ' } }),
    per(`sophie.roux@${d}`, 'Sophie', 'Roux', '810000000006', before, { status: 'deleted', deletion: { at: day(range, 20), reason: 'départ' } }),
    { address: `boite.test@${d}`, type: 'ORG', created: before, test: true, structure: FINESS, responsible: { name: 'DSI' }, description: 'Boîte de test' },
    per(`nouveau.venu@${d}`, 'Nouveau', 'Venu', '810000000007', new Date(range.endMs + 2 * 86_400_000).toISOString().slice(0, 10)),
    per(`ancien.compte@${d}`, 'Ancien', 'Compte', '810000000008', '2018-03-01'),
  );
  others.forEach((dom, i) => out.push(per(`claire.moreau@${dom}`, 'Claire', 'Moreau', `81000000001${i}`, before)));
  return out;
}

export function statsRegistryYaml(domains: readonly string[], range: MonthRange): string {
  return `# synthetic registry for the statistics (sandbox/stats-data.ts)\nversion: 1\n${stringify({ mailboxes: statsRegistryEntries(domains, range) }, { lineWidth: 0 })}`;
}

/** `loginsRecordedSince` that makes ancien.compte "unknown" (1900-01-01 00:00:00). */
export const STATS_LOGINS_RECORDED_SINCE = '2020-01-01';

/** Last logins and exchanges (RuntimeFields) at build time. */
export function statsRuntime(domains: readonly string[], range: MonthRange): Array<{ address: string; lastLogin?: Date; lastExchange?: Date }> {
  const d = domains[0] as string;
  const at = (days: number, h = 9): Date => new Date(range.startMs + days * 86_400_000 + h * 3_600_000);
  return [
    { address: `jean.dupont@${d}`, lastLogin: at(14, 8) },
    { address: `secretariat.cardio@${d}`, lastLogin: at(30, 7) },
    { address: `luc.bernard@${d}`, lastLogin: at(3) },
    { address: `sophie.roux@${d}`, lastLogin: at(18) },
    { address: `dpi.urgences@${d}`, lastExchange: at(2) },
  ];
}

/** Journal events of the month and around it. */
export function statsJournalEvents(domains: readonly string[], range: MonthRange): JournalEvent[] {
  const [d, d2] = domains as [string, string | undefined];
  const t = (ms: number): string => new Date(ms).toISOString();
  const at = (days: number, h = 10, m = 0): string => t(range.startMs + days * 86_400_000 + h * 3_600_000 + m * 60_000);
  const remote = 'ch-voisin.mssante.fr';
  const ev: JournalEvent[] = [];
  const submitted = (
    mailId: string,
    when: string,
    sender: string,
    recipients: string[],
    extra: Partial<Extract<JournalEvent, { type: 'submitted' }>> = {},
  ): void => {
    ev.push({ type: 'submitted', at: when, mailId, sender, recipients, size: 2048 + recipients.length, ...extra });
  };
  const delivery = (mailId: string, when: string, sender: string, recipient: string, outcome: 'delivered' | 'bounced' | 'deferred', reply?: string): void => {
    ev.push({ type: 'delivery', at: when, mailId, sender, recipient, outcome, ...(reply ? { reply } : {}), remote: `mx.${recipient.split('@')[1]}` });
  };
  // Multi-recipient with a patient and the three X-MSS headers, `;` in CODECDA.
  submitted('4A1B2C3D01', at(0, 0, 30), `Jean.Dupont@${d}`, [`a.medecin@${remote}`, `b.infirmier@${remote}`, '123456789012345@patient.mssante.fr'], {
    ins: 'O',
    codeCda: '34112-3;PRESC-BIO,15508-5',
    nil: '<idEditeur/idLogiciel/idVersion>',
    identity: '810000000001',
  });
  for (const r of [`a.medecin@${remote}`, `b.infirmier@${remote}`, '123456789012345@patient.mssante.fr'])
    delivery('4A1B2C3D01', at(0, 0, 31), `jean.dupont@${d}`, r, 'delivered');
  // Retried twice before success: one line.
  submitted('4A1B2C3D02', at(4), `secretariat.cardio@${d}`, [`c.chirurgien@${remote}`], { ins: 'N', nil: 'LPS-CARDIO' });
  delivery('4A1B2C3D02', at(4, 10, 1), `secretariat.cardio@${d}`, `c.chirurgien@${remote}`, 'deferred', '451 4.3.0 try later');
  delivery('4A1B2C3D02', at(4, 10, 31), `secretariat.cardio@${d}`, `c.chirurgien@${remote}`, 'deferred', '451 4.3.0 try later');
  delivery('4A1B2C3D02', at(4, 11, 31), `secretariat.cardio@${d}`, `c.chirurgien@${remote}`, 'delivered');
  // The destination answered an error: one line.
  submitted('4A1B2C3D03', at(5), `jean.dupont@${d}`, [`inconnu@${remote}`]);
  delivery('4A1B2C3D03', at(5, 10, 1), `jean.dupont@${d}`, `inconnu@${remote}`, 'bounced', '550 5.1.1 unknown user');
  // Never sent (only deferred): no line; the other recipient delivered: one line.
  submitted('4A1B2C3D04', at(6), `jean.dupont@${d}`, [`lent@ch-lent.mssante.fr`, `a.medecin@${remote}`]);
  delivery('4A1B2C3D04', at(6, 10, 1), `jean.dupont@${d}`, 'lent@ch-lent.mssante.fr', 'deferred', '421 4.4.2 timeout');
  delivery('4A1B2C3D04', at(6, 10, 2), `jean.dupont@${d}`, `a.medecin@${remote}`, 'delivered');
  // Local delivery (no delivery event) to a mailbox of ours, and to our test mailbox (left out).
  submitted('4A1B2C3D05', at(9, 15), `jean.dupont@${d}`, [`marie.martin@${d}`, `boite.test@${d}`, `marie.martin@${d}`], { nil: 'Webmail\r\nInjected: header' });
  // From excluded mailboxes: suspended before the month, and a test mailbox.
  submitted('4A1B2C3D06', at(10), `paul.durand@${d}`, [`a.medecin@${remote}`]);
  submitted('4A1B2C3D07', at(10, 11), `boite.test@${d}`, [`a.medecin@${remote}`]);
  // Suspended (and deleted) during the month: counted.
  submitted('4A1B2C3D08', at(11), `luc.bernard@${d}`, [`a.medecin@${remote}`], { ins: 'maybe' });
  submitted('4A1B2C3D09', at(12), `sophie.roux@${d}`, [`b.infirmier@${remote}`], { codeCda: '11488-4' });
  // A server notification (null sender): left out.
  submitted('4A1B2C3D10', at(13), '', [`jean.dupont@${d}`]);
  // An application mailbox (RE_SSU_5800: its last send is its last connection).
  submitted('4A1B2C3D11', at(15, 3), `dpi.urgences@${d}`, [`a.medecin@${remote}`], { ins: 'O', codeCda: '11488-4', nil: 'DPI-URG/2.1' });
  // Received from another operator: never in Echanges.
  ev.push({ type: 'received', at: at(16), mailId: '5B000001', sender: `a.medecin@${remote}`, recipients: [`jean.dupont@${d}`], size: 9000 });
  // Month boundaries in the operator's zone: first and last second in, one second out on each side.
  submitted('4A1B2C3D12', t(range.startMs), `jean.dupont@${d}`, [`a.medecin@${remote}`]);
  submitted('4A1B2C3D13', t(range.endMs - 1000), `jean.dupont@${d}`, [`a.medecin@${remote}`]);
  submitted('4A1B2C3D14', t(range.startMs - 1000), `jean.dupont@${d}`, [`a.medecin@${remote}`]);
  submitted('4A1B2C3D15', t(range.endMs), `jean.dupont@${d}`, [`a.medecin@${remote}`]);
  // Another domain of ours: its own file; a sender outside our domains is ignored.
  if (d2) submitted('4A1B2C3D16', at(20), `claire.moreau@${d2}`, [`a.medecin@${remote}`, '987654321098765@patient.mssante.fr']);
  submitted('4A1B2C3D17', at(21), `intrus@${remote}`, [`jean.dupont@${d}`]);
  // A quoted local part holding `;` (valid in RFC 5321): the line keeps its 8 fields (EX_PSU_5830).
  submitted('4A1B2C3D18', at(22), `jean.dupont@${d}`, [`"a;b"@${remote}`]);
  delivery('4A1B2C3D18', at(22, 10, 1), `jean.dupont@${d}`, `"a;b"@${remote}`, 'delivered');
  return ev;
}
