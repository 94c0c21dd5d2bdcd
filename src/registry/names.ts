// Name handling for the naming rules of Référentiel #1 §5.3: addresses built from a
// person's names (EX_GBM_4311) and personal names that must not appear in
// organisational, applicative or test BAL names (EX_GBM_4310, EX_GBM_4000).

/** Lowercase ASCII, accents removed, spaces and apostrophes as hyphens: "Le Gall-Éric" -> "le-gall-eric". */
export function normaliseName(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/ß/g, 'ss')
    .replace(/[\s'’`]+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Tokens of a local part or a name, at least 3 letters, normalised. */
export function nameTokens(s: string): string[] {
  return normaliseName(s.replace(/[._+]/g, '-'))
    .split('-')
    .filter((t) => t.length >= 3);
}

/**
 * Does `local` read prenom.nom for these names? Hyphens inside a compound name are
 * optional ("jean-pierre" or "jeanpierre"). Returns the suffix after prenom.nom
 * ('' when none), or undefined when the local part does not start with prenom.nom.
 * Takes names already normalised (normaliseName): it runs for every PER on each load.
 */
export function prenomNomSuffix(local: string, first: string, last: string): string | undefined {
  if (!first || !last) return undefined;
  const lower = local.toLowerCase();
  const j = matchName(lower, 0, first);
  if (j === undefined || lower[j] !== '.') return undefined;
  const k = matchName(lower, j + 1, last);
  return k === undefined ? undefined : lower.slice(k);
}

/** Match `name` in `s` from `at`, a hyphen on either side being optional; the end index. */
function matchName(s: string, at: number, name: string): number | undefined {
  let i = 0;
  let j = at;
  while (i < name.length) {
    if (name[i] === s[j]) {
      i++;
      j++;
    } else if (name[i] === '-') i++;
    else if (s[j] === '-' && j > at) j++;
    else return undefined;
  }
  return j;
}

/** A homonym suffix: a separator then letters/digits, e.g. "2", "-2", ".cardio". */
export const HOMONYM_SUFFIX = /^(?:[-._]?\d{1,3}|[-._][a-z0-9][a-z0-9-]{0,30})$/;

/** Title words after which a person's name is part of a structure's name (§5.3 examples). */
export const TITLE_TOKENS = new Set(['dr', 'pr', 'docteur', 'professeur', 'cabinet', 'maison', 'centre', 'clinique', 'institut', 'fondation']);

/**
 * EX_GBM_4000: a test BAL's name contains "test" — the only sign by which another operator's
 * test BAL can be recognised (EX_GBM_4010), and what our own test BALs must carry.
 */
export function localPartSaysTest(local: string): boolean {
  return /test/i.test(local);
}
