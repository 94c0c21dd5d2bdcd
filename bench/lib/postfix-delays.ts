// Postfix's own account of where each delivery's time went (`delays=a/b/c/d` on its
// delivery lines, seconds), for the gates bench: a before the queue manager (receiving the
// message), b in the queue manager (waiting for a delivery slot), c connection setup (for a
// cached connection: its reuse; else connect, greeting, EHLO/LHLO, TLS), d transmission
// (envelope, content, until the final reply). The direct path's d is one hop; the gates
// path's d holds both gates and the receiving Postfix.
import { median } from './runs.js';

export interface DeliveryDelays {
  a: number;
  b: number;
  c: number;
  d: number;
  deliveries: number;
}

/** Medians (seconds) over the deliveries of one client service (`postfix/smtp`, `postfix/mss-gate-out/lmtp`) in a piece of maillog. */
export function deliveryDelays(log: string, service: string): DeliveryDelays {
  const prefix = ` ${service}[`;
  const rows: number[][] = [];
  for (const line of log.split('\n')) {
    if (!line.includes(prefix)) continue;
    const m = / delays=([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+),/.exec(line);
    if (m) rows.push(m.slice(1, 5).map(Number));
  }
  const med = (i: number): number => median(rows.map((r) => r[i] as number));
  return { a: med(0), b: med(1), c: med(2), d: med(3), deliveries: rows.length };
}
