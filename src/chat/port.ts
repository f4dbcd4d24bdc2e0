// The ChatAdapter port: how the platform-neutral core talks to Slack, Discord and the playground.
// Platform payloads travel inward only as the opaque `raw` field.
import type { MessageRef, OutgoingMessage } from '../core/message.js';

export type { Block, Button, FileAttachment, MessageRef, OutgoingMessage } from '../core/message.js';

export type Platform = 'slack' | 'discord' | 'playground';

export interface PostRequest {
  channelId: string;
  /** Root message id of the thread to reply in; omitted for a top-level message. */
  threadId?: string;
  message: OutgoingMessage;
  /** The outbox key; adapters attach it to the message so a retry can find an earlier success. */
  idempotencyKey: string;
}

/** Where and since when to look for an earlier attempt's post. */
export interface PostedQuery {
  channelId: string;
  idempotencyKey: string;
  /** Where it would be when it was a thread reply. */
  threadId?: string;
  /** When the first attempt began: an earlier post cannot be older (adapters allow for clock skew). */
  since: Date;
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

/** Who clicked or ran a command, with what the platform says about them (used to authorise approvals). */
export interface Actor extends Person {
  /** From another organisation (Slack Connect, a foreign enterprise): never authorised to approve. */
  external?: boolean;
  /** Discord role ids the member holds in the guild. */
  roles?: string[];
  /**
   * The platform's own admin notion: a Slack workspace admin or owner, a Discord member with Manage
   * Server (or Administrator), the playground's admin. Decides who may change settings (core/roles).
   */
  admin?: boolean;
  /** A Slack multi- or single-channel guest: reads, never changes anything. */
  guest?: boolean;
}

export interface InboundInteraction {
  workspaceId: string;
  channelId: string;
  messageId: string;
  actionId: string;
  value: string;
  user: Actor;
  /** What the person typed into a submitted form (a Deny's reason), if it was one. */
  text?: string;
  raw: unknown;
}

/** What the person who clicked sees privately (ephemeral), if anything. */
export interface InteractionResponse {
  privateText?: string;
  /**
   * A form to open for the person instead (Slack: a modal from the command's trigger_id). Adapters
   * without forms show `privateText`. Its submission comes back as ordinary `/tacit` commands.
   */
  form?: SettingsForm | DenyReasonForm;
}
/**
 * Asks the person who pressed Deny why. Its submission comes back as an interaction with actionId
 * `approval_deny_reason`, value the approval id and `text` the reason; adapters without forms deny at once.
 */
export interface DenyReasonForm {
  kind: 'deny_reason';
  approvalId: string;
  /** The approval's action, for the form's title. */
  action: string;
}

/** The admin settings form: approvers and the Alertmanager integration, filled with today's values. */
export interface SettingsForm {
  kind: 'settings';
  approvers: { users: string[]; groups: string[]; twoPerson: boolean };
  alertmanagerUrl: string | null;
}

/** `/tacit <text>` from Slack's slash command, Discord's application command or the playground. */
export interface InboundCommand {
  workspaceId: string;
  channelId: string;
  user: Actor;
  /** Everything after `/tacit`, e.g. `connect grafana #incidents`. */
  text: string;
  raw: unknown;
}

export type MessageChange =
  | { kind: 'edited'; message: InboundMessage }
  | { kind: 'deleted'; workspaceId: string; channelId: string; messageId: string };

export interface InboundHandlers {
  message(message: InboundMessage): Promise<void>;
  interaction(interaction: InboundInteraction): Promise<InteractionResponse>;
  /** Answered privately to the person who ran it. */
  command(command: InboundCommand): Promise<InteractionResponse>;
  /** A person edited or deleted a channel message: the stored copy follows (a deletion removes its text). */
  messageChanged(change: MessageChange): Promise<void>;
  /**
   * A workspace was installed or joined (OAuth install, Discord guild create), with the channels the
   * platform listed with it (Discord's GUILD_CREATE), known from then on.
   */
  workspaceAdded(workspace: { workspaceId: string; name: string; channels?: { id: string; name: string }[] }): Promise<void>;
  /** Uninstalled, tokens revoked or guild left: its tokens are gone and its heartbeat must stop. */
  workspaceRemoved(workspaceId: string): Promise<void>;
}

export interface ChatAdapter {
  readonly platform: Platform;
  /** The forms this adapter opens in answer to a click; a Deny asks for a reason only where `deny_reason` is listed. */
  readonly forms?: readonly (SettingsForm | DenyReasonForm)['kind'][];
  /** Posts a message (with its file, if any) to a channel or a thread. */
  post(request: PostRequest): Promise<MessageRef>;
  update(ref: MessageRef, message: OutgoingMessage): Promise<void>;
  /**
   * The message posted earlier under this key, if any: a retry after a crash must not post twice.
   * Exact where the platform allows it, otherwise a scan of the messages since the first attempt
   * (never a count of recent ones). A rate limit on the way is a ChatRateLimitedError: wait and ask again.
   */
  findPosted(query: PostedQuery): Promise<MessageRef | null>;
  /** The direct-message channel with one person of a workspace (opened if needed), for push. */
  openDirect(workspaceId: string, personId: string): Promise<string>;
  /** A message only `personId` sees (Slack ephemeral; elsewhere a DM). Best effort, never retried. */
  postPrivate(channelId: string, personId: string, text: string): Promise<void>;
  /**
   * The person's display name as the platform shows it (Slack users.info, Discord guild member), or
   * null when unknown. Uncached: callers go through chat/people.ts, which caches with expiry.
   */
  personName?(workspaceId: string, personId: string): Promise<string | null>;
  /**
   * Shows that Tacit is working on an answer in a thread (Slack assistant.threads.setStatus); an empty
   * status clears it. Optional and best effort: adapters without such a line leave it out.
   */
  working?(channelId: string, threadId: string, status: string): Promise<void>;
  /** Whether a person belongs to a named group (Slack user group id, Discord role id). */
  inGroup(workspaceId: string, personId: string, groupId: string): Promise<boolean>;
  start(handlers: InboundHandlers): Promise<void>;
  stop(): Promise<void>;
}
