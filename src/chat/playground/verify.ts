// Who is who in the playground: you pick a person, so who may open it at all is decided by
// http/access.ts (the admin token, a login session, or loopback trust in playground mode).
import { playgroundUsers, type PlaygroundUser } from './types.js';

export function findUser(userId: string): PlaygroundUser | undefined {
  return playgroundUsers.find((u) => u.id === userId);
}
