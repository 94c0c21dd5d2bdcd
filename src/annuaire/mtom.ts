// multipart/related bodies (MTOM/XOP, SOAP with attachments): the Annuaire sends the report
// ZIP either inline (base64) or as an attachment (§6.4.2.5.1.2: "un fichier .zip en pièce
// jointe"). The parser splits the parts on the boundary, byte-exact (the ZIP is binary);
// the builder is for the sandbox.
import { MssError } from '../errors.js';

export interface MimePart {
  headers: Record<string, string>;
  body: Buffer;
}

export interface Multipart {
  /** The root part (the SOAP envelope): the `start` parameter's, else the first. */
  root: MimePart;
  /** Parts by Content-ID, without angle brackets. */
  byId: Map<string, MimePart>;
  parts: MimePart[];
}

/** A parameter of a Content-Type header (quoted or not), case-insensitive name. */
export function contentTypeParam(contentType: string, name: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i');
  const m = re.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

export function isMultipart(contentType: string | undefined): boolean {
  return /^\s*multipart\/related\b/i.test(contentType ?? '');
}

const stripId = (id: string): string => id.trim().replace(/^<|>$/g, '');

export function parseMultipart(body: Buffer, contentType: string, source: string): Multipart {
  const boundary = contentTypeParam(contentType, 'boundary');
  if (!boundary) throw new MssError('ANNUAIRE_MIME_MALFORMED', `${source}: multipart/related without a boundary`, { source });
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MimePart[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new MssError('ANNUAIRE_MIME_MALFORMED', `${source}: boundary "${boundary}" not found`, { source });
  for (;;) {
    let start = at + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing delimiter "--boundary--"
    // Skip transport padding and the CRLF after the delimiter.
    while (body[start] === 0x20 || body[start] === 0x09) start++;
    if (body[start] === 0x0d) start++;
    if (body[start] === 0x0a) start++;
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw new MssError('ANNUAIRE_MIME_MALFORMED', `${source}: part without a closing boundary`, { source });
    // The CRLF before the next delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    let end = next;
    if (body[end - 1] === 0x0a) end--;
    if (body[end - 1] === 0x0d) end--;
    parts.push(parsePart(body.subarray(start, end), source));
    at = next;
  }
  if (parts.length === 0) throw new MssError('ANNUAIRE_MIME_MALFORMED', `${source}: multipart body without parts`, { source });
  const byId = new Map<string, MimePart>();
  for (const p of parts) if (p.headers['content-id']) byId.set(stripId(p.headers['content-id']), p);
  const start = contentTypeParam(contentType, 'start');
  const root = (start && byId.get(stripId(start))) || (parts[0] as MimePart);
  return { root, byId, parts };
}

function parsePart(raw: Buffer, source: string): MimePart {
  let sep = raw.indexOf('\r\n\r\n');
  let skip = 4;
  if (sep < 0) {
    sep = raw.indexOf('\n\n');
    skip = 2;
  }
  if (sep < 0) throw new MssError('ANNUAIRE_MIME_MALFORMED', `${source}: MIME part without a header/body separator`, { source });
  const headers: Record<string, string> = {};
  for (const line of raw.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(sep + skip);
  const cte = headers['content-transfer-encoding']?.toLowerCase();
  if (cte === 'base64') body = Buffer.from(body.toString('latin1'), 'base64');
  return { headers, body };
}

/** An MTOM message: the XOP root (SOAP 1.1 envelope) and binary attachments (sandbox). */
export function buildMtom(rootXml: string, attachments: Array<{ id: string; contentType: string; body: Uint8Array }>): { contentType: string; body: Buffer } {
  const boundary = `uuid:${crypto.randomUUID()}`;
  const rootId = 'root.message@annuaire.sandbox';
  const chunks: Buffer[] = [
    Buffer.from(
      `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${rootId}>\r\n\r\n`,
    ),
    Buffer.from(rootXml, 'utf8'),
  ];
  for (const a of attachments) {
    chunks.push(
      Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${a.contentType}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${a.id}>\r\n\r\n`),
      Buffer.from(a.body),
    );
  }
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return {
    contentType: `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="<${rootId}>"; start-info="text/xml"`,
    body: Buffer.concat(chunks),
  };
}
