// Just enough multipart/form-data for the sandbox SIPIL: the one part named `file` of a
// postFile request (§6.9.3.2.1: curl -F 'file=@…').
export interface FilePart {
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export function filePartOf(body: Buffer, contentType: string | undefined): FilePart | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const boundary = m?.[1] ?? m?.[2];
  if (!/^multipart\/form-data/i.test(contentType ?? '') || !boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const headStart = at + delimiter.length + 2; // CRLF after the delimiter
    if (body.subarray(at + delimiter.length, at + delimiter.length + 2).toString() === '--') return undefined;
    const headEnd = body.indexOf('\r\n\r\n', headStart);
    if (headEnd < 0) return undefined;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headEnd + 4);
    if (next < 0) return undefined;
    const head = body.subarray(headStart, headEnd).toString('utf8');
    const disposition = /content-disposition:[^\r\n]*/i.exec(head)?.[0] ?? '';
    if (/\bname="file"/i.test(disposition)) {
      const filename = /filename="([^"]*)"/i.exec(disposition)?.[1];
      const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim();
      return { ...(filename !== undefined ? { filename } : {}), ...(type ? { contentType: type } : {}), data: body.subarray(headEnd + 4, next) };
    }
    at = next + 2;
  }
  return undefined;
}
