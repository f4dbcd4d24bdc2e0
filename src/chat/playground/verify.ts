// Who may use the playground: requests from this machine, or with the admin token. It has no login;
// you pick who you are, so it must never be open to the network.
import { timingSafeEqual } from 'node:crypto';
import { playgroundUsers, type PlaygroundUser } from './types.js';

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function bearerEquals(authorization: string | undefined, expected: string | undefined): boolean {
  if (!expected || !authorization?.startsWith('Bearer ')) return false;
  const a = Buffer.from(authorization.slice(7));
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function mayUsePlayground(remoteAddress: string | undefined, authorization: string | undefined, adminToken: string | undefined): boolean {
  return isLoopback(remoteAddress) || bearerEquals(authorization, adminToken);
}

export function findUser(userId: string): PlaygroundUser | undefined {
  return playgroundUsers.find((u) => u.id === userId);
}
