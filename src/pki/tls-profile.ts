// The TLS profile imposed on inter-operator SMTP (EX_OPE_5010, RE_OPE_5015) and on the
// API LPS (EX_LPS_0100, EX_LPS_0200): TLS 1.2 with exactly six suites, all with forward
// secrecy, DH groups >= 2048 bits and curves >= 256 bits; TLS 1.3 allowed.
import type { SecureContextOptions } from 'node:tls';

/** OpenSSL names of the six TLS 1.2 suites, in the order of the Référentiel. */
export const MSS_TLS12_CIPHERS = [
  'ECDHE-RSA-AES256-GCM-SHA384', // 0xC030
  'ECDHE-RSA-AES128-GCM-SHA256', // 0xC02F
  'ECDHE-RSA-AES256-SHA384', // 0xC028
  'ECDHE-RSA-AES128-SHA256', // 0xC027
  'DHE-RSA-AES256-GCM-SHA384', // 0x009F
  'DHE-RSA-AES128-GCM-SHA256', // 0x009E
] as const;

/** IANA names, for documentation and for checking what a peer negotiated. */
export const MSS_TLS12_CIPHERS_IANA = [
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
] as const;

/**
 * Curves of at least 256 bits (EX_OPE_5010). X25519 is left out on purpose: it is a 255-bit
 * curve, and the Référentiel's wording is a bit length, not a security level.
 */
export const MSS_ECDH_CURVES = 'P-256:P-384:P-521';

/**
 * Base TLS options for every MSSanté-facing endpoint. TLS 1.3 suites are left to OpenSSL's
 * defaults (all AEAD with forward secrecy); the `ciphers` string only governs TLS 1.2.
 * DHE suites need `dhparam: 'auto'` (OpenSSL picks a group matching the key, >= 2048 bits).
 */
export function mssTlsOptions(): SecureContextOptions {
  return {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: MSS_TLS12_CIPHERS.join(':'),
    ecdhCurve: MSS_ECDH_CURVES,
    dhparam: 'auto',
    honorCipherOrder: true,
  };
}
