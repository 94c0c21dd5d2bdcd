// Macros the MTA sends before each event (SMFIC_MACRO), kept per stage so a rule can ask
// "what was {auth_authen} at MAIL" as well as "the latest value of i". Names are stored
// without braces, so `{auth_authen}` and `auth_authen` find the same value. Message stages
// are cleared when a message ends, so nothing leaks from one message to the next.
import { Cmd } from './constants.js';
import type { StageName } from './negotiation.js';

const STAGE_OF_COMMAND: Record<string, StageName> = {
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

/** Most recent stage first: where a plain lookup finds a name. */
const LOOKUP_ORDER: readonly StageName[] = ['eom', 'eoh', 'data', 'rcpt', 'mail', 'helo', 'connect'];
const MESSAGE_STAGES: readonly StageName[] = ['mail', 'rcpt', 'data', 'eoh', 'eom'];
/** Bound what one peer can make us hold: Postfix sends a few dozen short values. */
const MAX_NAMES_PER_STAGE = 64;
const MAX_VALUE_LENGTH = 4096;

export function macroKey(name: string): string {
  return name.startsWith('{') && name.endsWith('}') ? name.slice(1, -1) : name;
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
  private readonly stages = new Map<StageName, Map<string, string>>();

  /** Record the macros of one SMFIC_MACRO packet; returns false for a command with no stage. */
  define(forCommand: string, macros: ReadonlyArray<readonly [string, string]>): boolean {
    const stage = STAGE_OF_COMMAND[forCommand];
    if (!stage) return false;
    // Each RCPT brings its own {rcpt_addr}; replace rather than merge.
    const map = stage === 'rcpt' ? new Map<string, string>() : (this.stages.get(stage) ?? new Map<string, string>());
    for (const [name, value] of macros) {
      if (map.size >= MAX_NAMES_PER_STAGE && !map.has(macroKey(name))) break;
      map.set(macroKey(name), value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value);
    }
    this.stages.set(stage, map);
    return true;
  }

  /** Forget the macros of the message that ended (abort, end of message). */
  clearMessage(): void {
    for (const s of MESSAGE_STAGES) this.stages.delete(s);
  }

  clearAll(): void {
    this.stages.clear();
  }

  get(name: string): string | undefined {
    const key = macroKey(name);
    for (const stage of LOOKUP_ORDER) {
      const v = this.stages.get(stage)?.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  at(stage: StageName, name: string): string | undefined {
    return this.stages.get(stage)?.get(macroKey(name));
  }

  all(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const stage of [...LOOKUP_ORDER].reverse()) for (const [k, v] of this.stages.get(stage) ?? []) out[k] = v;
    return out;
  }
}
