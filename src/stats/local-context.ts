// The control context of this operator (stats validate, stats upload, the schedule): our
// certificate's DN against the last valid liste blanche (control n°8, EX_SSU_5810's access
// rule), and the files SIPIL already accepted (n°10/11).
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { asMssError, MssError } from '../errors.js';
import { dnFromCertificate, formatDn, type Dn } from '../pki/dn.js';
import { whitelistSetup } from '../whitelist/from-config.js';
import { verifyWhitelist } from '../whitelist/verify.js';
import type { WhitelistIndex } from '../whitelist/whitelist-index.js';
import type { ControlContext } from './controls.js';
import { echangesColumns } from './format.js';
import type { Submissions } from './submissions.js';

export function operatorDn(config: Config): Dn {
  try {
    return dnFromCertificate(new X509Certificate(fs.readFileSync(config.operator.certificate)));
  } catch (err) {
    throw new MssError(
      'CONFIG_OPERATOR_CERTIFICATE',
      `operator.certificate ${config.operator.certificate}: cannot read its subject: ${(err as Error).message}`,
      { file: config.operator.certificate },
    );
  }
}

/** The last valid liste blanche, verified again before use (RE_2.2_5010); undefined with the reason when there is none. */
export async function loadWhitelistIndex(config: Config): Promise<{ index?: WhitelistIndex; problem?: string }> {
  try {
    const setup = await whitelistSetup(config);
    const bytes = fs.readFileSync(setup.paths.file);
    return { index: verifyWhitelist(bytes, { ...setup.policy, source: setup.paths.file }).index };
  } catch (err) {
    const e = asMssError(err);
    return { problem: `no verified liste blanche (${e.code}: ${e.message}); run \`mss-sidecar whitelist sync\`` };
  }
}

/** Among `names`, those SIPIL already accepted (asked ahead: the controls are synchronous). */
export async function acceptedAmong(submissions: Submissions, names: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const n of names) if (await submissions.wasAccepted(n)) out.add(n);
  return out;
}

export async function localControlContext(config: Config, now: Date, acceptedNames: ReadonlySet<string> = new Set()): Promise<ControlContext> {
  const dn = operatorDn(config);
  const { index, problem } = await loadWhitelistIndex(config);
  return {
    now,
    timeZone: config.operator.timeZone,
    managesDomain: (domain) => (index ? index.allows(dn, domain) : undefined),
    ...(problem ? { whitelistProblem: problem } : {}),
    alreadyAccepted: (name) => acceptedNames.has(name),
    echangesLayouts: [echangesColumns(config.stats.echangesFormat)],
    maxErrorLines: config.stats.maxErrorLines,
  };
}

export const describeDn = (dn: Dn): string => formatDn(dn);
