// Hanging on purpose, for the evidence stand-ins (Prometheus, Loki): while on, requests are held open
// unanswered (a query that times out); turning it off or closing the server drops them.
import type { Server, ServerResponse } from 'node:http';

export interface Hang {
  /** True when `res` was taken and must not be answered now. */
  hold(res: ServerResponse): boolean;
  set(on: boolean): void;
  close(): Promise<void>;
}

export function hangable(server: Server): Hang {
  const held: ServerResponse[] = [];
  let hanging = false;
  const drop = () => {
    for (const res of held.splice(0)) res.destroy();
  };
  return {
    hold(res) {
      if (hanging) held.push(res);
      return hanging;
    },
    set(on) {
      hanging = on;
      if (!on) drop();
    },
    close: () => new Promise<void>((resolve) => {
      drop();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
