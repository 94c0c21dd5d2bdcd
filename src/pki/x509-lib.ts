// The one entry point to @peculiar/x509 (CRL creation, parsing and verification). The
// library's dependency injection needs reflect-metadata loaded before it, and a WebCrypto
// provider; importing it only through this module guarantees both.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
