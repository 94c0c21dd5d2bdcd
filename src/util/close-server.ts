// Stop an HTTP(S) server now: no new connections, idle and active ones closed.
import type http from 'node:http';

export function closeServerNow(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
