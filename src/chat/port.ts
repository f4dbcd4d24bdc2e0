// The ChatAdapter port: how the platform-neutral core talks to Slack, Discord and the playground.
// Platform payloads travel inward only as the opaque `raw` field.
import type { MessageRef, OutgoingMessage } from '../core/message.js';

export type { Block, Button, MessageRef, OutgoingMessage } from '../core/message.js';

export type Platform = 'slack' | 'discord' | 'playground';

export interface PostRequest {
  channelId: string;
  /** Root message id of the thread to reply in; omitted for a top-level message. */
  threadId?: string;
  message: OutgoingMessage;
  /** The outbox key; adapters attach it to the message so a retry can find an earlier success. */
  idempotencyKey: string;
}

export interface Person {
  id: string;
  name: string;
}

export interface InboundMessage {
  workspaceId: string;
  channelId: string;
  messageId: string;
  threadId: string | null;
  author: Person & { isBot: boolean };
  /** The text with Tacit's own mention removed. */
  text: string;
  mentionsTacit: boolean;
  raw: unknown;
}

export interface InboundInteraction {
  workspaceId: string;
  channelId: string;
  messageId: string;
  actionId: string;
  value: string;
  user: Person;
  raw: unknown;
}

/** What the person who clicked sees privately (ephemeral), if anything. */
export interface InteractionResponse {
  privateText?: string;
}

/** `/tacit <text>` from Slack's slash command, Discord's application command or the playground. */
export interface InboundCommand {
  workspaceId: string;
  channelId: string;
  user: Person;
  /** Everything after `/tacit`, e.g. `connect grafana #incidents`. */
  text: string;
  raw: unknown;
}

export interface InboundHandlers {
  message(message: InboundMessage): Promise<void>;
  interaction(interaction: InboundInteraction): Promise<InteractionResponse>;
  /** Answered privately to the person who ran it. */
  command(command: InboundCommand): Promise<InteractionResponse>;
}

export interface ChatAdapter {
  readonly platform: Platform;
  post(request: PostRequest): Promise<MessageRef>;
  update(ref: MessageRef, message: OutgoingMessage): Promise<void>;
  /** The message posted earlier under this key, if any: a retry after a crash must not post twice. */
  findPosted(channelId: string, idempotencyKey: string): Promise<MessageRef | null>;
  start(handlers: InboundHandlers): Promise<void>;
  stop(): Promise<void>;
}
