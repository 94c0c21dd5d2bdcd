// The server side of a TLS-terminating front: the entry point's certificate and key with
// the TLS profile of every API LPS entry point (EX_LPS_0100, EX_LPS_0200).
import fs from 'node:fs';
import tls from 'node:tls';
import { MssError } from '../../errors.js';
import { mssTlsOptions } from '../../pki/tls-profile.js';

/** `configKey` names the section (`auth.front`, `auth.authCli`) in the error an operator reads. */
export function entryPointTlsContext(files: { certificate: string; key: string }, configKey: string): tls.SecureContext {
  const read = (file: string, key: string): string => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new MssError('CONFIG_FRONT_TLS', `cannot read ${file} (${configKey}.${key}): ${(err as Error).message}`, { file });
    }
  };
  return tls.createSecureContext({ ...mssTlsOptions(), cert: read(files.certificate, 'certificate'), key: read(files.key, 'key') });
}
