// The skeleton every simulated ANS service shares: an HTTPS server on loopback that can go
// down and come back on the same port (the "down" fault), its open connections tracked so
// that going down really cuts them, and a plain-HTTP control port (loopback only) through
// which tests and the self-check drive it.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface LoopbackServiceOptions {
  host: string;
  /** 0 (default) picks a free port. */
  port?: number;
  controlPort?: number;
  tls: https.ServerOptions;
}

/** A simulated service: subclasses answer requests (`serve`) and control requests. */
export abstract class LoopbackService {
  private readonly server: https.Server;
  private readonly controlServer: http.Server;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;
  private listening = false;

  protected abstract serve(req: http.IncomingMessage, res: http.ServerResponse): void;
  protected abstract controlRequest(req: http.IncomingMessage, res: http.ServerResponse): void;

  constructor(private readonly service: LoopbackServiceOptions) {
    this.server = https.createServer(service.tls, (req, res) => this.serve(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // A client refused during the handshake is the test's business, not a server error.
    this.server.on('tlsClientError', () => {});
    this.controlServer = http.createServer((req, res) => this.controlRequest(req, res));
  }

  get port(): number {
    return this.boundPort;
  }

  get controlUrl(): string {
    return `http://${this.service.host}:${(this.controlServer.address() as AddressInfo).port}/`;
  }

  async start(): Promise<void> {
    await this.up(this.service.port ?? 0);
    await new Promise<void>((resolve, reject) => {
      this.controlServer.once('error', reject);
      this.controlServer.listen(this.service.controlPort ?? 0, this.service.host, () => resolve());
    });
  }

  async stop(): Promise<void> {
    await this.down();
    this.controlServer.closeAllConnections();
    await new Promise<void>((resolve) => this.controlServer.close(() => resolve()));
  }

  /** Listen again (on the same port once it had one). */
  up(port = this.boundPort): Promise<void> {
    if (this.listening) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.service.host, () => {
        this.server.off('error', reject);
        this.boundPort = (this.server.address() as AddressInfo).port;
        this.listening = true;
        resolve();
      });
    });
  }

  /** Stop listening and cut every open connection: the service is unreachable. */
  down(): Promise<void> {
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }
}

/** A request's body, or undefined once it exceeds `max` bytes (the rest is drained). */
export function readRequestBody(req: http.IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}
