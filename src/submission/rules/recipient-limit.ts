// EX_GBM_4420: at most 40 recipients per message ("afin de minimiser les risques d'émission
// de messages non sollicités"). The recipient after the limit is refused with 452 4.5.3
// (RFC 5321 §4.5.3.1.10: too many recipients, the client may send the rest in another
// message); the message goes on with those already accepted.
import { refusal, type Refusal } from '../refusal.js';

export function recipientCount(accepted: number, max: number): Refusal | undefined {
  if (accepted < max) return undefined;
  return refusal(
    'recipient-limit',
    452,
    '4.5.3',
    `Too many recipients: at most ${max} per message (EX_GBM_4420); send to the others in another message`,
    'EX_GBM_4420',
  );
}
