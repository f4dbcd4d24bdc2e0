// Playground wire types: what the page sends (validated with zod) and what it receives.
import { z } from 'zod';

export const PLAYGROUND_WORKSPACE_ID = 'playground:local';
export const PLAYGROUND_CHANNEL = { id: 'playground:incidents', name: 'incidents' } as const;
export const TACIT_USER = { id: 'tacit', name: 'tacit' } as const;
/** The playground's one user group: the people marked approver below. */
export const PLAYGROUND_APPROVERS_GROUP = 'approvers';

/** A person's direct messages with Tacit. */
export function dmChannel(personId: string): string {
  return `playground:dm-${personId}`;
}

export interface PlaygroundUser {
  id: string;
  name: string;
  title: string;
  /** In the `approvers` group, which the playground's approver policy names. */
  approver: boolean;
  /** The playground's workspace admin: may change settings with `/tacit` (everyone may read). */
  admin: boolean;
}

/** The people you can be in the playground: an admin who approves, and a member who does neither. */
export const playgroundUsers: readonly PlaygroundUser[] = [
  { id: 'alice', name: 'alice', title: 'on-call engineer · approver · admin', approver: true, admin: true },
  { id: 'bob', name: 'bob', title: 'developer', approver: false, admin: false },
];

export const postMessageSchema = z.object({
  userId: z.string().min(1),
  channelId: z.string().min(1),
  text: z.string().trim().min(1, 'message is empty').max(4000, 'message is longer than 4000 characters'),
  threadId: z.string().min(1).nullish(),
});

export const clickSchema = z.object({
  userId: z.string().min(1),
  messageId: z.string().min(1),
  actionId: z.string().min(1).max(255),
  value: z.string().max(2000),
});

export const sampleAlertSchema = z.object({ status: z.enum(['firing', 'resolved']) });

export interface WireMessage {
  id: string;
  channelId: string;
  threadId: string | null;
  author: { id: string; name: string; isBot: boolean };
  text: string;
  blocks: unknown[];
  version: number;
  createdAt: string;
  editedAt: string | null;
}
