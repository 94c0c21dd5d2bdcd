// The steps of `mss-sidecar sandbox selfcheck` (what `make sandbox` runs), in order. Later
// issues append theirs: one import and one spread per file.
import type { SelfCheckStep } from './check.js';
import { pkiChecks } from './pki-checks.js';
import { submissionChecks } from './submission-checks.js';
import { whitelistChecks } from './whitelist-checks.js';
import { pscChecks } from './psc-checks.js';
import { lpsChecks } from './lps-checks.js';
import { statsChecks } from './stats-checks.js';
import { annuaireChecks } from './annuaire-checks.js';
import { gateChecks } from './gate-checks.js';
import { e2eChecks } from './e2e-checks.js';
import { portalChecks } from './portal-checks.js';
import { perimeterChecks } from './perimeter-checks.js';

export const selfCheckSteps: SelfCheckStep[] = [
  ...pkiChecks,
  ...whitelistChecks,
  ...pscChecks,
  ...lpsChecks,
  ...statsChecks,
  ...submissionChecks,
  ...annuaireChecks,
  ...gateChecks,
  ...e2eChecks,
  ...portalChecks,
  ...perimeterChecks,
];
