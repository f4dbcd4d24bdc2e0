// Who may use the playground: requests from this machine, or with the admin token. It has no login;
// you pick who you are, so it must never be open to the network.
import { bearerEquals, isDirectLoopback } from '../../http/access.js';
import { playgroundUsers, type PlaygroundUser } from './types.js';

export function mayUsePlayground(req: Parameters<typeof isDirectLoopback>[0], adminToken: string | undefined): boolean {
  return isDirectLoopback(req) || bearerEquals(typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined, adminToken);
}

export function findUser(userId: string): PlaygroundUser | undefined {
  return playgroundUsers.find((u) => u.id === userId);
}
