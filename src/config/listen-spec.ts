// Where a service listens or connects, in Postfix's own notation so that the same string goes
// into main.cf: `inet:127.0.0.1:10028`, `unix:/path`. The milter's listener and the gates'
// loopback doors (a unix socket by default) use it.
import path from 'node:path';

export type ListenSpec = { kind: 'inet'; host: string; port: number } | { kind: 'unix'; path: string };

/** Postfix's own notation, so the same string goes into smtpd_milters: `inet:127.0.0.1:10028`, `unix:/path`. */
export function parseListen(value: string): ListenSpec | undefined {
  const inet = /^inet:(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(value);
  if (inet) {
    const port = Number(inet[3]);
    if (port < 1 || port > 65535) return undefined;
    return { kind: 'inet', host: inet[1] ?? inet[2] ?? '', port };
  }
  const unix = /^unix:(.+)$/.exec(value);
  if (unix && path.isAbsolute(unix[1] ?? '')) return { kind: 'unix', path: path.normalize(unix[1] ?? '') };
  return undefined;
}

export function formatListen(spec: ListenSpec): string {
  return spec.kind === 'unix' ? `unix:${spec.path}` : `inet:${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
}
