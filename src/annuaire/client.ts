// One call to an Annuaire SOAP service: HTTPS with mutual TLS using the operator
// certificate, trusting only the IGC-Santé store (EX_WSA_5010, EX_WSA_5040), the envelope
// streamed around the body, the answer read (faults mapped, EX_WSA_5060).
import { httpsRequest } from '../net/https-request.js';
import { SOAP_CONTENT_TYPE, serviceAddress } from './contract.js';
import type { AnnuaireCredentials } from './credentials.js';
import type { EnvelopeFrame, Service } from './envelope.js';
import type { FaultContext } from './faults.js';
import { readSoapReply, type SoapReply } from './soap-response.js';

export interface CallOptions {
  creds: AnnuaireCredentials;
  timeoutMs: number;
  maxResponseBytes: number;
}

function* around(frame: EnvelopeFrame, content: Iterable<string>): Generator<string> {
  yield frame.head;
  yield* content;
  yield frame.tail;
}

export async function callAnnuaire(
  service: Service,
  endpoint: string,
  frame: EnvelopeFrame,
  content: Iterable<string>,
  opts: CallOptions,
  ctx: Omit<FaultContext, 'service' | 'url' | 'dn'> = {},
): Promise<SoapReply> {
  const url = serviceAddress(endpoint);
  const res = await httpsRequest({
    url,
    method: 'POST',
    headers: { 'content-type': SOAP_CONTENT_TYPE, soapaction: `"${frame.action}"`, accept: 'text/xml, multipart/related, application/xop+xml' },
    body: around(frame, content),
    ca: opts.creds.ca,
    cert: opts.creds.certPem,
    key: opts.creds.keyPem,
    timeoutMs: opts.timeoutMs,
    maxBytes: opts.maxResponseBytes,
  });
  return readSoapReply(res, { service, url, dn: opts.creds.dn, ...ctx }, opts.maxResponseBytes);
}
