// EX_SDT_5010: is the clock synchronised on a reliable source? Asked, in turn, of what a
// Debian server may run, without needing systemd as PID 1 (timedatectl asks timedated over
// D-Bus, absent from containers):
//   - chrony:            `chronyc -n tracking` ("Leap status : Normal");
//   - ntpsec / ntp:      `ntpq -c "rv 0 leap"` (leap=00 synchronised, leap=11 not);
//   - systemd-timesyncd: its state file /run/systemd/timesync/synchronized, created once it
//                        synchronised the clock (systemd ≥ 239);
//   - timedatectl, where systemd runs;
//   - otherwise, when health.clock.ntpServer is set, an SNTP query (RFC 4330) measuring our
//     offset from that server: the documented fallback for a host whose clock is kept by
//     something else (a container's host, a hypervisor).
// With none of these the answer is "unknown", never a guess.
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import type { CheckResult } from './check-result.js';

/** One way to learn the synchronisation state: true, false, or undefined (cannot tell). */
export interface ClockSource {
  name: string;
  synced(): boolean | undefined;
}

export function commandSource(cmd: string, args: string[], read: (stdout: string) => boolean | undefined): ClockSource {
  return {
    name: cmd,
    synced() {
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 3000 });
      return r.error || r.status !== 0 ? undefined : read(r.stdout);
    },
  };
}

/** systemd-timesyncd's flag file; its absence proves nothing (timesyncd may not run). */
export function timesyncdSource(root = '/'): ClockSource {
  return { name: 'systemd-timesyncd', synced: () => (fs.existsSync(path.join(root, 'run/systemd/timesync/synchronized')) ? true : undefined) };
}

export const CLOCK_SOURCES: readonly ClockSource[] = [
  commandSource('chronyc', ['-n', 'tracking'], (o) =>
    /Leap status\s*:\s*Normal/.test(o) ? true : /Leap status\s*:\s*Not synchronised/.test(o) ? false : undefined,
  ),
  commandSource('ntpq', ['-c', 'rv 0 leap'], (o) => (/leap=(0|00)\b/.test(o) ? true : /leap=(3|11)\b/.test(o) ? false : undefined)),
  timesyncdSource(),
  commandSource('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], (o) => (o.trim() === 'yes' ? true : o.trim() === 'no' ? false : undefined)),
];

export interface NtpFallback {
  server: string;
  port: number;
  /** Warning above this offset, critical above ten times it. */
  maxOffsetMs: number;
  timeoutMs: number;
}

export async function clockSync(sources: readonly ClockSource[] = CLOCK_SOURCES, ntp?: NtpFallback): Promise<CheckResult> {
  for (const s of sources) {
    const synced = s.synced();
    if (synced === undefined) continue;
    return {
      check: 'clock.sync',
      severity: synced ? 'ok' : 'critical',
      detail: synced ? `${s.name}: clock synchronised` : `${s.name}: the clock is not synchronised; trace timestamps are not reliable`,
      value: synced ? 1 : 0,
      requirement: 'EX_SDT_5010',
    };
  }
  if (ntp) {
    try {
      const offsetMs = await sntpOffset(ntp.server, ntp.port, ntp.timeoutMs);
      const abs = Math.abs(offsetMs);
      return {
        check: 'clock.sync',
        severity: abs > 10 * ntp.maxOffsetMs ? 'critical' : abs > ntp.maxOffsetMs ? 'warning' : 'ok',
        detail: `SNTP ${ntp.server}:${ntp.port}: this clock is ${abs.toFixed(0)} ms ${offsetMs > 0 ? 'behind' : 'ahead'} (warning above ${ntp.maxOffsetMs} ms)`,
        value: offsetMs / 1000,
        labels: { source: 'sntp' },
        requirement: 'EX_SDT_5010',
      };
    } catch (err) {
      return {
        check: 'clock.sync',
        severity: 'warning',
        detail: `no time daemon answered and SNTP ${ntp.server}:${ntp.port} failed: ${(err as Error).message}`,
        requirement: 'EX_SDT_5010',
      };
    }
  }
  return {
    check: 'clock.sync',
    severity: 'unknown',
    detail: `none of ${sources.map((s) => s.name).join(', ')} answered and health.clock.ntpServer is not set: check NTP synchronisation by other means`,
    requirement: 'EX_SDT_5010',
  };
}

// NTP timestamps count seconds from 1900; the fraction is 1/2^32 s.
const NTP_EPOCH_OFFSET_S = 2_208_988_800;

function writeTimestamp(buf: Buffer, offset: number, ms: number): void {
  const s = Math.floor(ms / 1000) + NTP_EPOCH_OFFSET_S;
  buf.writeUInt32BE(s >>> 0, offset);
  buf.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32) >>> 0, offset + 4);
}

function readTimestamp(buf: Buffer, offset: number): number {
  return (buf.readUInt32BE(offset) - NTP_EPOCH_OFFSET_S) * 1000 + (buf.readUInt32BE(offset + 4) / 2 ** 32) * 1000;
}

/**
 * One SNTP exchange (RFC 4330 §5): the server's clock minus ours, in ms, as
 * ((T2 − T1) + (T3 − T4)) / 2. Refuses an unsynchronised server (leap 3, stratum 0).
 */
export function sntpOffset(host: string, port = 123, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const done = (err: Error | undefined, value?: number): void => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(value as number);
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const request = Buffer.alloc(48);
    request[0] = (0 << 6) | (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
    const t1 = Date.now();
    writeTimestamp(request, 40, t1);
    socket.on('error', (err) => done(err));
    socket.on('message', (msg) => {
      const t4 = Date.now();
      if (msg.length < 48) return done(new Error('short SNTP answer'));
      const leap = (msg[0] as number) >> 6;
      const mode = (msg[0] as number) & 7;
      const stratum = msg[1] as number;
      if (mode !== 4 && mode !== 5) return done(new Error(`not a server answer (mode ${mode})`));
      // The server copies our transmit time into "originate": anything else answers someone else.
      if (!msg.subarray(24, 32).equals(request.subarray(40, 48))) return done(new Error('an answer to another request'));
      if (leap === 3 || stratum === 0) return done(new Error('the server is not synchronised itself'));
      const t2 = readTimestamp(msg, 32);
      const t3 = readTimestamp(msg, 40);
      done(undefined, (t2 - t1 + (t3 - t4)) / 2);
    });
    socket.send(request, port, host);
  });
}
