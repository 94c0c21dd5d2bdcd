// The components `mss-sidecar sandbox` starts, in order (stopped in reverse). Later issues
// add theirs here: Pro Santé Connect, Annuaire SOAP services, SIPIL, operators' gates.
import type { SandboxComponent } from './component.js';
import { whitelistComponent } from './whitelist-component.js';
import { pscComponent } from './psc-component.js';
import { lpsComponent } from './lps-component.js';
import { sipilComponent } from './sipil-component.js';
import { annuaireComponent } from './annuaire/component.js';
import { gatesComponent } from './gates-component.js';

export const sandboxComponents: SandboxComponent[] = [whitelistComponent, pscComponent, lpsComponent, sipilComponent, annuaireComponent, gatesComponent];
