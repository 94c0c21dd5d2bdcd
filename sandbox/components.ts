// The components `mss-sidecar sandbox` starts, in order (stopped in reverse): the ANS side
// first, then the simulated operators, whose configurations point at it.
import type { SandboxComponent } from './component.js';
import { whitelistComponent } from './whitelist-component.js';
import { pscComponent } from './psc-component.js';
import { sipilComponent } from './sipil-component.js';
import { annuaireComponent } from './annuaire/component.js';
import { operatorsComponent } from './operators-component.js';

export const sandboxComponents: SandboxComponent[] = [whitelistComponent, pscComponent, sipilComponent, annuaireComponent, operatorsComponent];
