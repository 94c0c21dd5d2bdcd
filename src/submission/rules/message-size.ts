// EX_GBM_4410: messages up to the configured size (10 Mo at least, encoded attachments
// included) pass; larger ones are refused with 552 5.3.4 — at MAIL when the client declares
// a SIZE= above the limit (RFC 1870), at the end of the message otherwise.
import { refusal, type Refusal } from '../refusal.js';

function tooBig(size: number, max: number): Refusal {
  return refusal('message-size', 552, '5.3.4', `Message size ${size} bytes exceeds the limit of ${max} bytes (EX_GBM_4410)`, 'EX_GBM_4410');
}

/** The SIZE= parameter of MAIL FROM, when the client sent one. */
export function declaredSize(param: string | true | undefined, max: number): Refusal | undefined {
  if (typeof param !== 'string' || !/^[0-9]{1,20}$/.test(param)) return undefined;
  const size = Number(param);
  return size > max ? tooBig(size, max) : undefined;
}

export function actualSize(size: number, max: number): Refusal | undefined {
  return size > max ? tooBig(size, max) : undefined;
}
