// Every file and directory the configuration names, checked the way the service will use
// them: opened by the service user (as-user.ts), certificates parsed and in their validity
// period, each private key matching its certificate, the operator certificate chaining to
// trust.dir (EX_OPE_5040: the gates present it to peers who validate it against IGC-Santé).
// A schema that only says "a path" would let `serve` stop with exit 2 on the first start;
// `config check` and `status` find it before.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { filePath } from '../config/atoms.js';
import { configSchema, type Config } from '../config/schema.js';
import { certificatesFromFile, describeCert, type CertInfo } from '../pki/certificate.js';
import { TrustStore } from '../pki/truststore.js';
import { describeOwnership, identityName, probeAs, type Access, type Identity, type Probe } from './as-user.js';

export type FileRole = 'certificate' | 'key' | 'ca-dir' | 'writable-dir' | 'file';

export interface FileKey {
  /** Dotted configuration key, e.g. operator.key. */
  key: string;
  path: string;
  role: FileRole;
}

export interface FileCheck extends FileKey {
  ok: boolean;
  /** What was found (ok) or what is wrong, naming the file and the user. */
  detail: string;
}

/** Certificates presented to IGC-Santé peers: they must chain to trust.dir. */
const CHAINED_TO_TRUST = new Set(['operator.certificate']);

type AnySchema = z.ZodType & { _zod: { def: Record<string, unknown> & { type: string } } };

/** The dotted keys of the schema whose value is a `filePath`, found by walking the schema. */
export function filePathKeys(schema: AnySchema = configSchema as unknown as AnySchema, prefix: string[] = []): string[][] {
  if ((schema as unknown) === filePath) return [prefix];
  const def = schema._zod.def;
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape as Record<string, AnySchema>).flatMap(([k, s]) => filePathKeys(s, [...prefix, k]));
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      return filePathKeys(def.innerType as AnySchema, prefix);
    case 'pipe':
      return [...filePathKeys(def.in as AnySchema, prefix), ...filePathKeys(def.out as AnySchema, prefix)];
    default:
      return [];
  }
}

function roleOf(key: string[]): FileRole {
  const last = key[key.length - 1] ?? '';
  const dotted = key.join('.');
  if (dotted === 'trust.dir') return 'ca-dir';
  if (last === 'key') return 'key';
  if (last === 'certificate') return 'certificate';
  if (last === 'dir' || last.endsWith('Dir')) return 'writable-dir';
  return 'file';
}

/**
 * The files of this configuration: every filePath key that has a value, except in a
 * section turned off (`enabled: false` on the way).
 */
export function fileKeysOf(config: Config): FileKey[] {
  const out: FileKey[] = [];
  for (const key of filePathKeys()) {
    let node: unknown = config;
    let off = false;
    for (const part of key) {
      if (node && typeof node === 'object' && (node as { enabled?: unknown }).enabled === false) off = true;
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    }
    if (off || typeof node !== 'string') continue;
    out.push({ key: key.join('.'), path: node, role: roleOf(key) });
  }
  return out;
}

const ACCESS: Record<FileRole, Access> = { certificate: 'read', key: 'read', file: 'read', 'ca-dir': 'list', 'writable-dir': 'write' };
const VERB: Record<Access, string> = { read: 'readable', list: 'listable', write: 'writable' };

/** Check every file of the configuration as `id` would use it; `now` for validity periods. */
export function checkConfigFiles(config: Config, id: Identity, now = new Date()): FileCheck[] {
  const keys = fileKeysOf(config);
  // The CA files inside trust.dir are opened by the service too.
  const caFiles = keys.filter((k) => k.role === 'ca-dir').flatMap((k) => listCaFiles(k.path));
  const probes: Probe[] = [...keys.map((k) => ({ path: k.path, access: ACCESS[k.role] })), ...caFiles.map((f) => ({ path: f, access: 'read' as const }))];
  const who = identityName(id);
  let access: Map<string, { ok: boolean; code?: string; via?: string }>;
  try {
    access = new Map(probeAs(id, probes).map((r) => [`${r.access} ${r.path}`, r]));
  } catch (err) {
    return [{ key: '(service user)', path: '', role: 'file', ok: false, detail: (err as Error).message }];
  }
  const out: FileCheck[] = [];
  for (const k of keys) {
    const a = access.get(`${ACCESS[k.role]} ${k.path}`);
    if (!a?.ok) {
      out.push({
        ...k,
        ok: false,
        detail: `${k.path} is not ${VERB[ACCESS[k.role]]} by ${who}: ${a?.code ?? 'not checked'}${a?.code === 'ENOENT' ? ' (no such file)' : ` (${describeOwnership(k.path)})`}`,
      });
      continue;
    }
    if (k.role === 'ca-dir') {
      const unreadable = caFiles.filter((f) => f.startsWith(`${k.path}${path.sep}`) && !access.get(`read ${f}`)?.ok);
      if (unreadable.length > 0) {
        out.push({ ...k, ok: false, detail: `${unreadable.join(', ')} not readable by ${who} (${describeOwnership(unreadable[0] as string)})` });
        continue;
      }
    }
    out.push(contentCheck(config, k, keys, now, who, a.via));
  }
  return out;
}

function listCaFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => /\.(pem|crt|cer|der)$/i.test(n))
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

function contentCheck(config: Config, k: FileKey, keys: readonly FileKey[], now: Date, who: string, via?: string): FileCheck {
  const fail = (detail: string): FileCheck => ({ ...k, ok: false, detail });
  const pass = (detail: string): FileCheck => ({ ...k, ok: true, detail });
  try {
    switch (k.role) {
      case 'certificate': {
        const leaf = readLeaf(k.path);
        if (now > leaf.notAfter) return fail(`${k.path}: ${describeCert(leaf)} expired on ${leaf.notAfter.toISOString()}`);
        if (now < leaf.notBefore) return fail(`${k.path}: ${describeCert(leaf)} is not valid before ${leaf.notBefore.toISOString()}`);
        if (CHAINED_TO_TRUST.has(k.key)) {
          const chain = TrustStore.fromDir(config.trust.dir).validate(leaf, { at: now });
          if (!chain.ok) return fail(`${k.path}: ${chain.message} (trust.dir ${config.trust.dir})`);
          return pass(`${describeCert(leaf)}, valid until ${leaf.notAfter.toISOString().slice(0, 10)}, chains to trust.dir`);
        }
        return pass(`${describeCert(leaf)}, valid until ${leaf.notAfter.toISOString().slice(0, 10)}`);
      }
      case 'key': {
        const key = readKey(k.path);
        const certKey = `${k.key.slice(0, -'key'.length)}certificate`;
        const cert = keys.find((c) => c.key === certKey);
        if (!cert) return pass(`readable by ${who}`);
        let leaf: CertInfo;
        try {
          leaf = readLeaf(cert.path);
        } catch {
          return pass(`readable by ${who} (${certKey} unreadable: not compared)`);
        }
        const fromKey = createPublicKey(key).export({ format: 'der', type: 'spki' });
        const fromCert = leaf.x509.publicKey.export({ format: 'der', type: 'spki' });
        if (!fromKey.equals(fromCert)) return fail(`${k.path} is not the private key of ${certKey} ${cert.path} (${describeCert(leaf)})`);
        return pass(`readable by ${who}, matches ${certKey}`);
      }
      case 'ca-dir': {
        const trust = TrustStore.fromDir(k.path);
        const expired = trust.certificates.filter((c) => now > c.notAfter);
        if (expired.length > 0) return fail(`${expired.map(describeCert).join('; ')} expired`);
        return pass(`${trust.certificates.length} CA certificate(s)`);
      }
      case 'writable-dir':
        return pass(via ? `will be created in ${via}, writable by ${who}` : `writable by ${who}`);
      default:
        return pass(`readable by ${who}`);
    }
  } catch (err) {
    return fail(`${k.path}: ${(err as Error).message}`);
  }
}

function readLeaf(file: string): CertInfo {
  const [leaf] = certificatesFromFile(fs.readFileSync(file), file);
  if (!leaf) throw new Error('no certificate');
  return leaf;
}

function readKey(file: string): KeyObject {
  try {
    return createPrivateKey(fs.readFileSync(file));
  } catch (err) {
    throw new Error(`not a readable private key (PEM, unencrypted): ${(err as Error).message}`);
  }
}
