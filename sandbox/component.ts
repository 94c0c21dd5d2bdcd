// A part of the simulated ANS side. The sandbox starts the components of ./components.ts
// in order, merges what each contributes into sandbox.json, and stops them in reverse.
// Adding a service (Pro Santé Connect, Annuaire SOAP, SIPIL, an operator's SMTP gates) is
// one component file plus one line in ./components.ts.
import type { Logger } from '../src/log.js';
import type { PkiManifest } from './pki.js';
import type { SandboxEndpoints, SandboxOperator } from './manifest.js';

export interface SandboxContext {
  /** The sandbox directory (D). */
  dir: string;
  /** Loopback address every component listens on. */
  host: string;
  pki: PkiManifest;
  operators: readonly SandboxOperator[];
  /** Endpoints of the components started before this one. */
  endpoints: Readonly<SandboxEndpoints>;
  log: Logger;
}

export interface RunningComponent {
  endpoints?: SandboxEndpoints;
  /** Domains this component makes exist (e.g. the liste blanche's). */
  domains?: string[];
  stop(): Promise<void>;
}

export interface SandboxComponent {
  readonly name: string;
  start(ctx: SandboxContext): Promise<RunningComponent>;
}
