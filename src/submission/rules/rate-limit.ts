// A per-sender limit against mass sending from a compromised mailbox (§5.4.3: "envoi en
// masse", a compromised BAL used to reach others by rebound). The Référentiel sets no
// figure, so it is off by default and its numbers are the operator's. Counted in the state
// store (shared by every node) over a fixed window: messages and recipients accepted;
// checked at MAIL, so a sender over either budget gets a temporary failure (450 4.7.1)
// until the window ends. Senders of dgs.mssante.fr are never limited (EX_3.1_5015: mass
// health alerts from the Direction Générale de la Santé must get through).
// The limit protects; it must not stop mail when the store fails: a store error lets the
// message through and is logged.
import type { Logger } from '../../log.js';
import type { StateStore } from '../../store/store.js';
import { domainOf } from '../address.js';
import type { SubmissionConfig } from '../config.js';
import { refusal, shown, type Refusal } from '../refusal.js';

export const NEVER_LIMITED_DOMAIN = 'dgs.mssante.fr';

export class RateLimiter {
  private readonly exempt: Set<string>;
  private readonly windowMs: number;

  constructor(
    private readonly cfg: SubmissionConfig['rateLimit'],
    private readonly store: StateStore,
    private readonly log: Logger,
  ) {
    this.exempt = new Set([NEVER_LIMITED_DOMAIN, ...cfg.exempt]);
    this.windowMs = cfg.windowSeconds * 1000;
  }

  /** EX_3.1_5015: dgs.mssante.fr, and the configured addresses and domains, are never limited. */
  limited(sender: string): boolean {
    if (!this.cfg.enabled || sender === '') return false;
    const s = sender.toLowerCase();
    return !this.exempt.has(s) && !this.exempt.has(domainOf(s));
  }

  async check(sender: string): Promise<Refusal | undefined> {
    if (!this.limited(sender)) return undefined;
    const s = sender.toLowerCase();
    let counts: Array<string | undefined>;
    try {
      counts = await Promise.all([this.store.get(key('m', s)), this.store.get(key('r', s))]);
    } catch (err) {
      this.log.error({ err, sender: s }, 'rate limit not checked: the state store failed; message let through');
      return undefined;
    }
    const [messages, recipients] = counts.map((c) => Number(c ?? 0)) as [number, number];
    if (messages < this.cfg.messages && recipients < this.cfg.recipients) return undefined;
    const minutes = Math.round(this.cfg.windowSeconds / 60);
    return refusal(
      'rate-limit',
      450,
      '4.7.1',
      `Sending limit reached for ${shown(s)}: ${this.cfg.messages} messages or ${this.cfg.recipients} recipients per ${minutes} min (protection against mass sending); try again later`,
      '§5.4.3',
    );
  }

  /** Messages of `sender` counted in the current window (the sandbox self-check waits on it). */
  async messagesCounted(sender: string): Promise<number> {
    return Number((await this.store.get(key('m', sender.toLowerCase()))) ?? 0);
  }

  /** Count an accepted message; not awaited by the caller (the reply does not wait for it). */
  async count(sender: string, recipients: number): Promise<void> {
    if (!this.limited(sender)) return;
    const s = sender.toLowerCase();
    try {
      await Promise.all([this.store.incr(key('m', s), { windowMs: this.windowMs }), this.store.incr(key('r', s), { by: recipients, windowMs: this.windowMs })]);
    } catch (err) {
      this.log.error({ err, sender: s }, 'rate limit counter not updated: the state store failed');
    }
  }
}

function key(kind: 'm' | 'r', sender: string): string {
  return `rate:${kind}:${sender}`;
}
