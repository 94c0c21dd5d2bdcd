// A Postfix policy delegation client (the protocol smtpd speaks to check_policy_service), to
// drive postfwd directly: one request, one `action=...` answer, on a kept-open connection.
import net from 'node:net';
import { connectTo, type EngineAddress } from './milter-load.js';

export class PolicyClient {
  private buffer = '';
  private waiters: Array<(action: string) => void> = [];

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffer += d;
      for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
        const answer = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        this.waiters.shift()?.(/^action=(.*)$/m.exec(answer)?.[1] ?? '');
      }
    });
    socket.on('error', () => {});
  }

  static async connect(address: EngineAddress): Promise<PolicyClient> {
    const socket = connectTo(address);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new PolicyClient(socket);
  }

  ask(attrs: Record<string, string | number>): Promise<string> {
    const text = `request=smtpd_access_policy\n${Object.entries(attrs)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n\n`;
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.socket.write(text);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
