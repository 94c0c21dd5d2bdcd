// Macros the MTA sends before each event (SMFIC_MACRO), kept per stage so a rule can ask
// "what was {auth_authen} at MAIL" as well as "the latest value of i". Names are stored
// without braces, so `{auth_authen}` and `auth_authen` find the same value. Message stages
// are cleared when a message ends, so nothing leaks from one message to the next.
import { Cmd } from './constants.js';
import type { StageName } from './negotiation.js';

/** Stages by index, oldest first: a plain lookup searches from the most recent one down. */
const STAGES: readonly StageName[] = ['connect', 'helo', 'mail', 'rcpt', 'data', 'eoh', 'eom'];
const STAGE_INDEX: Readonly<Record<string, number>> = Object.fromEntries(STAGES.map((stage, i) => [stage, i]));
/** The stage a SMFIC_MACRO packet's command belongs to, by the command's code. */
const STAGE_OF_COMMAND: Readonly<Record<string, StageName>> = {
  [Cmd.CONNECT]: 'connect',
  [Cmd.HELO]: 'helo',
  [Cmd.MAIL]: 'mail',
  [Cmd.RCPT]: 'rcpt',
  [Cmd.DATA]: 'data',
  [Cmd.HEADER]: 'eoh',
  [Cmd.EOH]: 'eoh',
  [Cmd.BODY]: 'eom',
  [Cmd.BODYEOB]: 'eom',
};
/** By command code, the index of its stage (looked up for every SMFIC_MACRO packet: no name in between). */
const STAGE_INDEX_OF_COMMAND: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(STAGE_OF_COMMAND).map(([command, stage]) => [command, STAGE_INDEX[stage] as number]),
);
const RCPT = STAGE_INDEX.rcpt as number;
/** The first stage of a message (mail): it and every later one are cleared when a message ends. */
const FIRST_MESSAGE_STAGE = STAGE_INDEX.mail as number;

/** Bound what one peer can make us hold: Postfix sends a few dozen short values. */
const MAX_NAMES_PER_STAGE = 64;
const MAX_VALUE_LENGTH = 4096;

export function macroKey(name: string): string {
  // Compared by character code: this runs for every macro received and every lookup (issue 20).
  return name.length >= 2 && name.charCodeAt(0) === 123 && name.charCodeAt(name.length - 1) === 125 ? name.slice(1, -1) : name;
}

export interface MacroView {
  /** Latest value of a macro at any stage (`i`, `auth_authen` or `{auth_authen}`). */
  get(name: string): string | undefined;
  /** Value as sent for one stage. */
  at(stage: StageName, name: string): string | undefined;
  /** Every known macro, latest value, braces removed (for logs and tests). */
  all(): Record<string, string>;
}

export class MacroStore implements MacroView {
  /** By stage index (STAGES): the macros sent for that stage, names without braces. */
  private readonly stages: Array<Map<string, string> | undefined> = [undefined, undefined, undefined, undefined, undefined, undefined, undefined];

  /** Record the macros of one SMFIC_MACRO packet; returns false for a command with no stage. */
  define(forCommand: string, macros: ReadonlyArray<readonly [string, string]>): boolean {
    const stage = STAGE_INDEX_OF_COMMAND[forCommand];
    if (stage === undefined) return false;
    let map = this.stages[stage];
    if (!map) this.stages[stage] = map = new Map<string, string>();
    // Each RCPT brings its own {rcpt_addr}; replace rather than merge.
    else if (stage === RCPT) map.clear();
    for (const [name, value] of macros) {
      const key = macroKey(name);
      if (map.size >= MAX_NAMES_PER_STAGE && !map.has(key)) break;
      map.set(key, value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value);
    }
    return true;
  }

  /** Forget the macros of the message that ended (abort, end of message). */
  clearMessage(): void {
    for (let s = FIRST_MESSAGE_STAGE; s < STAGES.length; s++) this.stages[s] = undefined;
  }

  clearAll(): void {
    this.stages.fill(undefined);
  }

  get(name: string): string | undefined {
    const key = macroKey(name);
    for (let s = STAGES.length - 1; s >= 0; s--) {
      const v = this.stages[s]?.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  at(stage: StageName, name: string): string | undefined {
    const s = STAGE_INDEX[stage];
    return s === undefined ? undefined : this.stages[s]?.get(macroKey(name));
  }

  all(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const map of this.stages) for (const [k, v] of map ?? []) out[k] = v;
    return out;
  }
}
