// Building blocks shared by every configuration section, so that one kind of value is
// validated the same way everywhere (and reported with the same wording).
import path from 'node:path';
import { z } from 'zod';

// Relative paths in the configuration are relative to the file that contains them, not to
// the working directory of whoever runs the command. loadConfig() sets this for the
// duration of one synchronous parse.
let baseDir = process.cwd();
export function withBaseDir<T>(dir: string, fn: () => T): T {
  const previous = baseDir;
  baseDir = dir;
  try {
    return fn();
  } finally {
    baseDir = previous;
  }
}

/** A file or directory path; relative values are resolved against the config file's directory. */
export const filePath = z
  .string()
  .min(1, 'a non-empty path')
  .transform((p) => path.resolve(baseDir, p));

/** A DNS domain name as it appears in the liste blanche (compared lowercase). */
export const domainName = z
  .string()
  .min(1)
  .max(255)
  .regex(
    /^(?=.{1,255}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/,
    'a domain name such as ch-exemple.mssante.fr',
  )
  .transform((d) => d.toLowerCase());

export const httpsUrl = z.url({ protocol: /^https$/, error: 'an https:// URL' });
export const httpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });

export const port = z.number().int().min(0).max(65535);
export const positiveInt = z.number().int().positive();

/** host:port listen address; loopback by default for every internal service. */
export const listenAddress = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port,
});

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
