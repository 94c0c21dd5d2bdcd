// Validation of the whole registry: the shape of each mailbox (schema.ts), then the rules
// of Référentiel #1 §5 that software can check, each problem naming its requirement ID.
// Pure functions over plain objects, so that a load, a CLI edit and a cache hit validate
// exactly the same way. Positions (line numbers) are added by the caller, who knows the
// YAML text.
import type { z } from 'zod';
import { ADELI_IDNAT, RPPS_IDNAT, STRUCTURE_ID, isNationalId } from './ids.js';
import { HOMONYM_SUFFIX, TITLE_TOKENS, localPartSaysTest, nameTokens, normaliseName, prenomNomSuffix } from './names.js';
import { balSchema, parseDate, type BalEntry } from './schema.js';

export type Severity = 'error' | 'warning';

export interface RegistryProblem {
  /** Stable code, e.g. REGISTRY_ADDRESS. */
  code: string;
  /** The requirement (or Annuaire table/rule) that the problem breaks. */
  rule: string;
  severity: Severity;
  /** Index of the mailbox in `mailboxes` (-1: the file as a whole). */
  index: number;
  bal?: string;
  /** Key path inside the mailbox entry. */
  path: Array<string | number>;
  message: string;
  /** Line in the registry file, when known. */
  line?: number;
}

export interface ValidationContext {
  /** Managed domains (lowercase), from operator.domains. */
  domains: readonly string[];
  /** operator.finessRegistered (EX_PBA_5011). */
  finessRegistered: boolean;
  /** operator.finessJuridique: the operator's FINESS juridique numbers (EX_PBA_5011). */
  finessJuridique?: readonly string[];
}

/** Only the validation context out of wider options (what the compiled cache is keyed on). */
export function validationContext(o: ValidationContext): ValidationContext {
  return {
    domains: o.domains,
    finessRegistered: o.finessRegistered,
    ...(o.finessJuridique && o.finessJuridique.length > 0 ? { finessJuridique: o.finessJuridique } : {}),
  };
}

export interface Validated {
  /** One slot per input entry; undefined where the entry's shape is invalid. */
  entries: Array<BalEntry | undefined>;
  problems: RegistryProblem[];
}

/** §1.5: v1.6 compliance date; EX_GBM_4311 applies to PER BALs created from then on. */
export const PER_NAMING_FROM = Date.parse('2025-01-19T00:00:00Z');
/** §5.1.2: at most 25 test BALs in production. */
export const MAX_TEST_BALS = 25;
/** EX_GBM_3030: at most 20 co-holders, the Responsable opérationnel included. */
export const MAX_CAB_COHOLDERS = 20;
export const AUTOREPLY_LOCAL = 'reponse.automatique-test';
/** Rules checked across entries (checkAcrossEntries); every other rule looks at one entry. */
export const CROSS_ENTRY_RULES: ReadonlySet<string> = new Set(['EX_PBA_5030', 'EX_GBM_4000', 'EX_GBM_4020', 'EX_GBM_4311', 'EX_GBM_4310']);

// Keys of functional addresses that would make one address stand for several mailboxes.
const LIST_KEYS = ['members', 'aliases', 'alias', 'forward', 'forwardTo', 'redirect', 'recipients', 'list'];
const TEST_WORDS = new Set(['test', 'tests', 'reponse', 'automatique']);
const LOCAL_PART = /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$/;
const DOMAIN = /^(?=.{1,255}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const MSSANTE_DOMAINS = /(?:^|\.)mssante\.fr$|^interop-mssante\.apicrypt\.org$/;

/**
 * Validate every entry. `trusted(i)` says that raw[i] is an entry this function already
 * accepted with the same context (from the compiled cache): its own checks are skipped,
 * the checks across entries still run. An edit thus re-checks one entry, not 50,000.
 */
export function validateEntries(raw: readonly unknown[], ctx: ValidationContext, trusted: (i: number) => boolean = () => false): Validated {
  const problems: RegistryProblem[] = [];
  const entries: Array<BalEntry | undefined> = new Array(raw.length);
  const domains = new Set(ctx.domains);
  for (let i = 0; i < raw.length; i++) {
    if (trusted(i)) {
      entries[i] = raw[i] as BalEntry;
      continue;
    }
    const e = parseEntry(raw[i], i, problems);
    entries[i] = e;
    if (e) checkEntry(e, i, ctx, domains, problems);
  }
  checkAcrossEntries(entries, ctx, problems);
  return { entries, problems };
}

function parseEntry(value: unknown, index: number, problems: RegistryProblem[]): BalEntry | undefined {
  const address =
    value && typeof value === 'object' && typeof (value as { address?: unknown }).address === 'string'
      ? (value as { address: string }).address.toLowerCase()
      : undefined;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const key of LIST_KEYS) {
      if (key in value) {
        // EX_PBA_5030: every MSSanté address is one physical BAL; no distribution lists.
        problems.push(
          problem(
            'REGISTRY_DISTRIBUTION_LIST',
            'EX_PBA_5030',
            index,
            address,
            [key],
            `"${key}" makes this address a distribution list or an alias; every MSSanté address must be exactly one physical mailbox`,
          ),
        );
      }
    }
  }
  const parsed = balSchema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys' && issue.keys.every((k) => LIST_KEYS.includes(k))) continue;
    problems.push(fromZod(issue, index, address));
  }
  return undefined;
}

function fromZod(issue: z.core.$ZodIssue, index: number, bal: string | undefined): RegistryProblem {
  const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  if (issue.code === 'unrecognized_keys') {
    return problem(
      'REGISTRY_UNKNOWN_KEY',
      'registry schema',
      index,
      bal,
      [...path, issue.keys[0] ?? ''],
      `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (see docs/registry.md)`,
    );
  }
  if (issue.code === 'too_big' && issue.origin === 'string') {
    const table = /Annuaire ([A-Za-z]+)/.exec(issue.message)?.[1];
    return problem('REGISTRY_FIELD_LENGTH', table ? `Annuaire ${table}` : 'RFC 5321', index, bal, path, issue.message);
  }
  let message = issue.message;
  if (issue.code === 'invalid_type')
    message =
      ('input' in issue && issue.input === undefined ? 'missing; expected ' : `expected `) +
      (/^(a|an) /.test(issue.message) ? issue.message : `a value of type ${issue.expected}`);
  else if (issue.code === 'invalid_value') message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return problem('REGISTRY_SCHEMA', 'registry schema', index, bal, path, message);
}

function checkEntry(e: BalEntry, i: number, ctx: ValidationContext, domains: Set<string>, out: RegistryProblem[]): void {
  const add = (code: string, rule: string, path: Array<string | number>, message: string, severity: Severity = 'error'): void => {
    out.push(problem(code, rule, i, e.address, path, message, severity));
  };
  const at = e.address.lastIndexOf('@');
  const local = at > 0 ? e.address.slice(0, at) : e.address;
  const domain = at > 0 ? e.address.slice(at + 1) : '';

  // EX_GBM_4300: RFC 5321 (local part <= 64, domain <= 255, <= 256 in all) and only
  // alphanumerics, ".", "_", "-", "+" (Annuaire constraint).
  if (at <= 0 || !LOCAL_PART.test(local)) {
    add(
      'REGISTRY_ADDRESS',
      'EX_GBM_4300',
      ['address'],
      `"${e.address}" is not allowed: the local part may contain only letters, digits, ".", "_", "-", "+" (no leading, trailing or double dot)`,
    );
  } else if (local.length > 64) {
    add('REGISTRY_ADDRESS', 'EX_GBM_4300', ['address'], `local part of ${local.length} characters; RFC 5321 allows at most 64`);
  }
  if (at > 0 && !DOMAIN.test(domain))
    add('REGISTRY_ADDRESS', 'EX_GBM_4300', ['address'], `"${domain}" is not a valid domain (RFC 5321, at most 255 characters)`);
  else if (at > 0 && !domains.has(domain))
    add(
      'REGISTRY_FOREIGN_DOMAIN',
      'RG_CTR_001',
      ['address'],
      `domain ${domain} is not one of the managed domains (operator.domains: ${[...domains].join(', ')})`,
    );

  // Which person fields each type carries (§5.1.1, Annuaire Tableaux 14–16).
  if (e.type === 'PER') {
    if (!e.holder) add('REGISTRY_HOLDER', 'EX_GBM_4230', ['holder'], 'a personal BAL needs its holder (idNat, lastName, firstName)');
    if (e.coHolders.length > 0)
      add('REGISTRY_COHOLDERS', 'EX_GBM_5410', ['coHolders'], 'co-holders belong to organisational BALs; a personal BAL has one holder (use delegates)');
    if (e.responsible) add('REGISTRY_SCHEMA', 'EX_GBM_4230', ['responsible'], 'a personal BAL has a holder, not a separate responsible');
    if (e.holder && !isNationalId(e.holder.idNat)) checkInternalHolder(e, add);
    if (e.holder && isNationalId(e.holder.idNat) && (e.holder.civilite || e.holder.profession || e.holder.categorie || e.holder.specialite)) {
      add(
        'REGISTRY_SCHEMA',
        'Annuaire Tableau 14',
        ['holder'],
        'civilite/profession/categorie/specialite are only for a holder without RPPS/ADELI (the Annuaire knows them from the RPPS)',
        'warning',
      );
    }
  } else if (e.holder) {
    add('REGISTRY_SCHEMA', 'EX_GBM_3040', ['holder'], `a ${e.type} BAL has no personal holder`);
  }
  if (e.type === 'ORG') {
    // EX_GBM_3020: an ORG BAL of a structure with FINESS carries TypeIdentifiantPM + IdentifiantPM.
    if (!e.structure)
      add(
        'REGISTRY_STRUCTURE',
        'EX_GBM_3020',
        ['structure'],
        'an ORG BAL needs its structure (type FINESS/SIREN/SIRET and id); a liberal practice without FINESS uses type CAB',
      );
    if (!e.responsible)
      add('REGISTRY_RESPONSIBLE', 'EX_GBM_4220', ['responsible'], 'an ORG BAL needs its Responsable opérationnel (name, and idNat if they use the BAL)');
  }
  if (e.type === 'APP') {
    // §5.2.3: an APP BAL is attached to a structure with FINESS, or a SIRET/SIREN known to the Annuaire.
    if (!e.structure) add('REGISTRY_STRUCTURE', 'EX_GBM_3020', ['structure'], 'an APP BAL needs its structure (FINESS, or SIREN/SIRET known to the Annuaire)');
    if (!e.responsible) add('REGISTRY_RESPONSIBLE', 'EX_GBM_4220', ['responsible'], 'an APP BAL needs its Responsable opérationnel');
    // EX_GBM_5411: applicative BALs offer no delegation (and have no co-holders).
    if (e.delegates.length > 0) add('REGISTRY_DELEGATION', 'EX_GBM_5411', ['delegates'], 'applicative BALs have no delegates');
    if (e.coHolders.length > 0) add('REGISTRY_COHOLDERS', 'EX_GBM_5411', ['coHolders'], 'applicative BALs have no co-holders');
  }
  if (e.type === 'CAB') checkCab(e, add);
  if ((e.type === 'ORG' || e.type === 'APP' || e.type === 'CAB') && !e.description) {
    add('REGISTRY_DESCRIPTION', 'Annuaire RG_CTR_030', ['description'], `a ${e.type} BAL needs a description (Annuaire Description X(160))`);
  }

  if (e.structure) {
    if (!STRUCTURE_ID[e.structure.type].test(e.structure.id)) {
      const expect = { FINESS: '9 characters (digits, 2A/2B for Corsica)', SIREN: '9 digits', SIRET: '14 digits' }[e.structure.type];
      add('REGISTRY_STRUCTURE', 'EX_GBM_3020', ['structure', 'id'], `"${e.structure.id}" is not a ${e.structure.type} number (${expect})`);
    }
    if (e.structure.mutualised && e.structure.type !== 'FINESS')
      add('REGISTRY_FINESS', 'EX_PBA_5011', ['structure', 'mutualised'], '"mutualised" marks a FINESS juridique; it has no meaning for SIREN/SIRET');
    // EX_PBA_5011 (§6.4.1.1): "un FINESS de type géographique … Sauf … une structure (maison
    // mère, siège social…) doté d'un FINESS juridique et … un usage mutualisé entre plusieurs
    // structures géographiques". FINESS numbers have one shape for both kinds, so the
    // operator's FINESS juridique numbers (operator.finessJuridique) tell them apart.
    const juridique = new Set(ctx.finessJuridique ?? []);
    if (e.structure.type === 'FINESS' && !e.test && juridique.size > 0) {
      if (juridique.has(e.structure.id) && !e.structure.mutualised) {
        add(
          'REGISTRY_FINESS',
          'EX_PBA_5011',
          ['structure', 'id'],
          `${e.structure.id} is a FINESS juridique (operator.finessJuridique): attach the FINESS géographique of the site this BAL belongs to, or set mutualised: true for a BAL shared between sites`,
        );
      } else if (e.structure.mutualised && !juridique.has(e.structure.id)) {
        add(
          'REGISTRY_FINESS',
          'EX_PBA_5011',
          ['structure', 'mutualised'],
          `mutualised: true attaches a BAL to a FINESS juridique, and ${e.structure.id} is not one of operator.finessJuridique (${[...juridique].join(', ')})`,
        );
      }
    }
  }
  // EX_PBA_5011 (and EX_PBA_5220 for PER): an operator registered in FINESS attaches a
  // FINESS géographique to every published BAL (FINESS juridique only when mutualised);
  // RG_CTR_033 refuses SIREN/SIRET for a structure that has a FINESS. Test BALs are not
  // published (EX_PBA_5230); a CAB is by definition a structure without FINESS.
  if (ctx.finessRegistered && !e.test && e.type !== 'CAB') {
    if (!e.structure) {
      if (e.type === 'PER')
        add(
          'REGISTRY_FINESS',
          'EX_PBA_5011',
          ['structure'],
          'the operator is registered in FINESS (operator.finessRegistered): attach the FINESS géographique of the site this BAL belongs to',
        );
    } else if (e.structure.type !== 'FINESS') {
      add(
        'REGISTRY_FINESS',
        'EX_PBA_5011',
        ['structure', 'type'],
        `the operator is registered in FINESS: use the site's FINESS géographique, not a ${e.structure.type} (RG_CTR_033)`,
      );
    }
  }

  checkDelegates(e, add);

  // Status dates and reasons: the monthly statistics exclude BALs by their suspension or
  // deletion date, and the structure manager is told why a BAL is suspended (RE_GBM_4430).
  if (e.status === 'suspended' && !e.suspension)
    add('REGISTRY_STATUS', 'RE_GBM_4430', ['suspension'], 'a suspended BAL needs suspension.at and suspension.reason');
  if (e.status === 'deleted' && !e.deletion)
    add('REGISTRY_STATUS', 'EX_GBM_6010', ['deletion'], 'a deleted BAL needs deletion.at (kept for statistics and traces)');
  if (e.status === 'active' && e.suspension)
    add('REGISTRY_STATUS', 'RE_GBM_4440', ['suspension'], 'an active BAL has no suspension (reactivate it with `bal reactivate`, or set status: suspended)');

  // EX_GBM_4440 / EX_GBM_6010: notices go through a channel outside the Espace de Confiance.
  const contactDomain = e.contact?.email?.split('@')[1]?.toLowerCase();
  if (contactDomain && (MSSANTE_DOMAINS.test(contactDomain) || domains.has(contactDomain))) {
    add(
      'REGISTRY_CONTACT',
      'EX_GBM_4440',
      ['contact', 'email'],
      `${e.contact?.email} is an MSSanté address; lifecycle notices must go outside the Espace de Confiance (personal or professional non-MSSanté e-mail)`,
    );
  }

  if (e.test) {
    // EX_GBM_4000: a test BAL's name says "test"; personal data in it is checked across entries.
    if (!localPartSaysTest(local)) add('REGISTRY_TEST_NAMING', 'EX_GBM_4000', ['address'], `test BAL "${local}" must contain "test" in its name`);
  } else if (localPartSaysTest(local)) {
    // EX_GBM_4010: other operators recognise test BALs by "test" in the address.
    add(
      'REGISTRY_TEST_NAMING',
      'EX_GBM_4010',
      ['address'],
      `"${local}" contains "test" but is not a test BAL (test: true); other operators may treat it as one`,
      'warning',
    );
  }
  if (local === AUTOREPLY_LOCAL && !e.test) add('REGISTRY_AUTOREPLY', 'EX_GBM_4020', ['test'], 'the auto-reply BAL is a test BAL: set test: true');
}

type Add = (code: string, rule: string, path: Array<string | number>, message: string, severity?: Severity) => void;

function checkInternalHolder(e: BalEntry, add: Add): void {
  const h = e.holder;
  if (!h) return;
  // Tableau 15: a PER without RPPS/ADELI is published with TypeIdentifiantPP 10 and every
  // attribute of the person, and must be attached to a structure.
  if (!e.structure)
    add(
      'REGISTRY_STRUCTURE',
      'Annuaire Tableau 15',
      ['structure'],
      `holder ${h.idNat} has no RPPS/ADELI: the BAL must be attached to a structure (TypeIdentifiantPM/IdentifiantPM required)`,
    );
  if (!h.profession) add('REGISTRY_HOLDER', 'Annuaire Tableau 15', ['holder', 'profession'], 'a holder without RPPS/ADELI needs profession (G15)');
  if (h.categorie !== '01')
    add('REGISTRY_HOLDER', 'Annuaire RG_CTR_024', ['holder', 'categorie'], 'a holder without RPPS/ADELI needs categorie "01" (professionnel de santé)');
  const allowed: Record<string, string[]> = { '10': ['PR', 'MG', 'MC', 'DR'], '21': ['PR', 'PC', 'PG', 'DR'], '40': ['PR', 'DR'] };
  const civ = h.profession ? allowed[h.profession] : undefined;
  if (civ && !h.civilite) add('REGISTRY_HOLDER', 'Annuaire RG_CTR_017', ['holder', 'civilite'], `profession ${h.profession} needs civilite (${civ.join('/')})`);
  if (civ && h.civilite && !civ.includes(h.civilite))
    add('REGISTRY_HOLDER', 'Annuaire RG_CTR_018', ['holder', 'civilite'], `civilite ${h.civilite} does not fit profession ${h.profession} (${civ.join('/')})`);
  if (h.specialite && h.profession === '40' && !/^SCD0[1-3]$/.test(h.specialite))
    add('REGISTRY_HOLDER', 'Annuaire RG_CTR_027', ['holder', 'specialite'], 'a chirurgien-dentiste speciality is SCD01, SCD02 or SCD03');
  if (h.specialite && h.profession === '21' && !/^SP0[1-4]$/.test(h.specialite))
    add('REGISTRY_HOLDER', 'Annuaire RG_CTR_027', ['holder', 'specialite'], 'a pharmacien speciality is SP01 to SP04');
}

function checkCab(e: BalEntry, add: Add): void {
  // EX_GBM_3030: a liberal structure without FINESS: CAB on the Responsable's RPPS, with
  // the co-holders declared (at most 20, the responsible included, exactly one responsible).
  if (e.structure)
    add('REGISTRY_CAB', 'EX_GBM_3030', ['structure'], 'a CAB is a structure without FINESS; a structure with a FINESS uses type ORG (EX_GBM_3020)');
  if (e.responsible) add('REGISTRY_CAB', 'EX_GBM_3030', ['responsible'], 'the Responsable of a CAB is the co-holder with responsible: true');
  const responsibles = e.coHolders.filter((c) => c.responsible);
  if (responsibles.length !== 1)
    add('REGISTRY_CAB', 'EX_GBM_3030', ['coHolders'], `a CAB needs exactly one co-holder with responsible: true (found ${responsibles.length})`);
  else if (!RPPS_IDNAT.test(responsibles[0]?.idNat ?? ''))
    add(
      'REGISTRY_CAB',
      'EX_GBM_3030',
      ['coHolders', e.coHolders.indexOf(responsibles[0] as never), 'idNat'],
      'the Responsable of a CAB is identified by their RPPS (idNat "8" + 11 digits)',
    );
  if (e.coHolders.length > MAX_CAB_COHOLDERS)
    add('REGISTRY_CAB', 'EX_GBM_3030', ['coHolders'], `${e.coHolders.length} co-holders; at most ${MAX_CAB_COHOLDERS}, the responsible included`);
  e.coHolders.forEach((c, j) => {
    if (!RPPS_IDNAT.test(c.idNat) && !ADELI_IDNAT.test(c.idNat))
      add('REGISTRY_CAB', 'EX_GBM_3030', ['coHolders', j, 'idNat'], `co-holder ${c.idNat} must be identified by RPPS or ADELI (TypeIdentifiantPP 8/0)`);
  });
}

function checkDelegates(e: BalEntry, add: Add): void {
  // §5.4.2 and EX_GBM_5411: a delegate acts for the holder, the responsible or a co-holder
  // and cannot declare delegates, co-holders or responsibles themselves.
  const principals = new Set<string>();
  if (e.holder) principals.add(e.holder.idNat);
  if (e.responsible?.idNat) principals.add(e.responsible.idNat);
  for (const c of e.coHolders) principals.add(c.idNat);
  const seen = new Set<string>();
  const delegateIds = new Set(e.delegates.map((d) => d.idNat));
  e.delegates.forEach((d, j) => {
    if (seen.has(d.idNat)) add('REGISTRY_DELEGATION', 'EX_GBM_5413', ['delegates', j, 'idNat'], `delegate ${d.idNat} is listed twice`);
    seen.add(d.idNat);
    if (!principals.has(d.for)) {
      const why = delegateIds.has(d.for) ? 'another delegate (delegates cannot delegate)' : 'neither the holder, the responsible nor a co-holder of this BAL';
      add('REGISTRY_DELEGATION', 'EX_GBM_5411', ['delegates', j, 'for'], `delegate ${d.idNat} acts for ${d.for}, who is ${why}`);
    }
    if (d.grantedBy !== undefined && !principals.has(d.grantedBy)) {
      add(
        'REGISTRY_DELEGATION',
        'EX_GBM_5411',
        ['delegates', j, 'grantedBy'],
        `${d.grantedBy} cannot grant a delegation: only the holder, the responsible or a co-holder can`,
      );
    }
  });
  const coIds = new Set<string>();
  e.coHolders.forEach((c, j) => {
    if (coIds.has(c.idNat)) add('REGISTRY_COHOLDERS', 'EX_GBM_5410', ['coHolders', j, 'idNat'], `co-holder ${c.idNat} is listed twice`);
    coIds.add(c.idNat);
  });
}

function checkAcrossEntries(entries: ReadonlyArray<BalEntry | undefined>, ctx: ValidationContext, out: RegistryProblem[]): void {
  const byAddress = new Map<string, number>();
  const lastNames = new Set<string>();
  const baseCount = new Map<string, number>();
  // Normalised holder names, computed once: they serve several rules below.
  const names: Array<{ first: string; last: string } | undefined> = new Array(entries.length);
  let tests = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!e) continue;
    const first = byAddress.get(e.address);
    // EX_PBA_5030 / RG_CTR_044 (MSS042): one address, one mailbox.
    if (first !== undefined)
      out.push(
        problem(
          'REGISTRY_DUPLICATE_ADDRESS',
          'EX_PBA_5030',
          i,
          e.address,
          ['address'],
          `${e.address} is already mailbox #${first} (addresses are unique, case-insensitive)`,
        ),
      );
    else byAddress.set(e.address, i);
    if (e.test && e.status !== 'deleted') tests++;
    if (e.type === 'PER' && e.holder) {
      const n = { first: normaliseName(e.holder.firstName), last: normaliseName(e.holder.lastName) };
      names[i] = n;
      if (n.last.length >= 3) lastNames.add(n.last);
      const key = `${n.first}.${n.last}@${domainOf(e.address)}`;
      baseCount.set(key, (baseCount.get(key) ?? 0) + 1);
    }
    for (const c of e.coHolders) {
      const l = normaliseName(c.lastName);
      if (l.length >= 3) lastNames.add(l);
    }
  }
  // §5.1.2 / EX_GBM_4000: at most 25 test BALs in production.
  if (tests > MAX_TEST_BALS)
    out.push(
      problem('REGISTRY_TEST_LIMIT', 'EX_GBM_4000', -1, undefined, [], `${tests} test BALs; at most ${MAX_TEST_BALS} are allowed in production (§5.1.2)`),
    );

  // EX_GBM_4020: one auto-reply test BAL per managed domain.
  for (const domain of ctx.domains) {
    const i = byAddress.get(`${AUTOREPLY_LOCAL}@${domain}`);
    if (i === undefined || entries[i]?.status === 'deleted') {
      out.push(
        problem(
          'REGISTRY_AUTOREPLY',
          'EX_GBM_4020',
          -1,
          undefined,
          [],
          `no active ${AUTOREPLY_LOCAL}@${domain}: each managed domain needs its auto-reply test BAL (test: true)`,
        ),
      );
    }
  }

  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!e) continue;
    const local = localOf(e.address);
    const n = names[i];
    if (n && !e.test && e.status !== 'deleted' && parseDate(e.created) >= PER_NAMING_FROM) {
      // EX_GBM_4311: PER BALs created after the v1.6 compliance date read prenom.nom; a
      // suffix is allowed only for a homonym on the same domain (declared or found).
      const suffix = prenomNomSuffix(local, n.first, n.last);
      const base = `${n.first}.${n.last}`;
      const homonymFound = (baseCount.get(`${base}@${domainOf(e.address)}`) ?? 0) > 1;
      if (suffix === undefined) {
        out.push(
          problem(
            'REGISTRY_PER_NAMING',
            'EX_GBM_4311',
            i,
            e.address,
            ['address'],
            `a personal BAL created on or after 2025-01-19 is named prenom.nom: expected ${base}@${domainOf(e.address)}`,
          ),
        );
      } else if (suffix !== '' && !((e.homonym || homonymFound) && HOMONYM_SUFFIX.test(suffix))) {
        out.push(
          problem(
            'REGISTRY_PER_NAMING',
            'EX_GBM_4311',
            i,
            e.address,
            ['address'],
            `"${suffix}" after ${base}: a suffix is allowed only for a homonym on the domain (homonym: true), as a separator and a number or word`,
          ),
        );
      }
    }
    if (e.test || e.type !== 'PER') checkPersonalNames(e, i, local, lastNames, out);
  }
}

function checkPersonalNames(e: BalEntry, i: number, local: string, lastNames: ReadonlySet<string>, out: RegistryProblem[]): void {
  const own = new Set<string>();
  if (e.holder) for (const t of [...nameTokens(e.holder.lastName), ...nameTokens(e.holder.firstName)]) own.add(t);
  for (const c of e.coHolders) for (const t of [...nameTokens(c.lastName), ...nameTokens(c.firstName)]) own.add(t);
  const tokens = normaliseName(local.replace(/[._+]/g, '-')).split('-');
  tokens.forEach((t, k) => {
    if (t.length < 3) return;
    const afterTitle = k > 0 && TITLE_TOKENS.has(tokens[k - 1] ?? '');
    if (e.test && !TEST_WORDS.has(t) && (own.has(t) || lastNames.has(t))) {
      // EX_GBM_4000: no personal data (name, first name) in a test BAL's name: an error
      // for the names of its own users, a warning for a surname found elsewhere.
      const mine = own.has(t);
      out.push(
        problem(
          'REGISTRY_TEST_NAMING',
          'EX_GBM_4000',
          i,
          e.address,
          ['address'],
          `test BAL name contains "${t}", ${mine ? 'the name of one of its users' : 'a surname of a holder in the registry'}; test BAL names carry no personal data`,
          mine ? 'error' : 'warning',
        ),
      );
    } else if (!e.test && e.type !== 'PER' && !afterTitle && (own.has(t) || lastNames.has(t))) {
      // EX_GBM_4310: no nominative information in ORG/APP names (a structure's name such
      // as cabinet-dr-martin is fine: a warning for a human to check).
      out.push(
        problem(
          'REGISTRY_PERSONAL_NAME',
          'EX_GBM_4310',
          i,
          e.address,
          ['address'],
          `"${t}" in an ${e.type} BAL name looks like a person's name; name organisational and applicative BALs after the structure or service`,
          'warning',
        ),
      );
    }
  });
  // EX_GBM_4310 (§5.3): "ne doit pas décrire une BAL applicative ou organisationnelle avec des
  // informations nominatives": the texts published with it (Description, ServiceRattachement)
  // follow the same rule as its name.
  if (e.test || e.type === 'PER') return;
  for (const field of ['description', 'service'] as const) {
    const text = e[field];
    if (!text) continue;
    const words = normaliseName(text.replace(/[._+/,;:()«»"]/g, ' ')).split('-');
    const hit = words.find((t, k) => t.length >= 3 && !(k > 0 && TITLE_TOKENS.has(words[k - 1] ?? '')) && (own.has(t) || lastNames.has(t)));
    if (hit)
      out.push(
        problem(
          'REGISTRY_PERSONAL_NAME',
          'EX_GBM_4310',
          i,
          e.address,
          [field],
          `"${hit}" in the ${field} of an ${e.type} BAL looks like a person's name; describe organisational and applicative BALs by the structure or service (a name after a title such as "Dr" is fine)`,
          'warning',
        ),
      );
  }
}

function localOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at > 0 ? address.slice(0, at) : address;
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

export function problem(
  code: string,
  rule: string,
  index: number,
  bal: string | undefined,
  path: Array<string | number>,
  message: string,
  severity: Severity = 'error',
): RegistryProblem {
  return { code, rule, severity, index, ...(bal !== undefined ? { bal } : {}), path, message };
}

/** One line per problem: file:line: key (bal): RULE [CODE]: message. */
export function formatProblem(p: RegistryProblem, file: string): string {
  const key = p.index < 0 ? 'mailboxes' : `mailboxes[${p.index}]${p.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`;
  return `${file}${p.line ? `:${p.line}` : ''}: ${key}${p.bal ? ` (${p.bal})` : ''}: ${p.rule} [${p.code}]${p.severity === 'warning' ? ' warning' : ''}: ${p.message}`;
}
