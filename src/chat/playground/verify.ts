// Who may use the playground: requests from this machine, or with the admin token. It has no login;
// you pick who you are, so it must never be open to the network.
import { bearerEquals, isLoopback } from '../../http/access.js';
import { playgroundUsers, type PlaygroundUser } from './types.js';

export function mayUsePlayground(remoteAddress: string | undefined, authorization: string | undefined, adminToken: string | undefined): boolean {
  return isLoopback(remoteAddress) || bearerEquals(authorization, adminToken);
}

export function findUser(userId: string): PlaygroundUser | undefined {
  return playgroundUsers.find((u) => u.id === userId);
}
