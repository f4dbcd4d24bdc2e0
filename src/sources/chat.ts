// Channel traffic intake: messages and mentions become events; mentions also start a conversation.
// Tacit's own messages and other bots' are never ingested, so Tacit cannot talk itself awake.
import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { redactSecrets } from '../core/redact.js';
import type { ChatEvent } from '../core/events.js';
import type { Db } from '../db/client.js';
import { channels, events, workspaces } from '../db/schema.js';
import type { InboundInteraction, InboundMessage, InteractionResponse, MessageChange } from '../chat/port.js';
import { FEEDBACK_ACTION_ID } from '../core/feedback.js';
import { ACK_ACTION_ID } from '../core/incident-card.js';
import { recordFeedback, type FeedbackDeps } from './feedback.js';
import { boundedSignal, insertEvents, type IntakeDeps } from './intake.js';

export interface ChatIntakeDeps extends IntakeDeps {
  /** Starts answering a mention; idempotent per event id. */
  converse(eventId: number, workspaceId: string): Promise<void>;
  /** Where feedback clicks go besides the feedback table (memory, metrics). */
  feedback?: Omit<FeedbackDeps, 'db' | 'log'>;
}

/**
 * Workspaces and channels are known from the traffic itself: the first message or command from a
 * Slack team or channel creates its row (names fill in later; the id stands in until then).
 */
export async function ensureChannel(db: Db, workspaceId: string, channelId: string, platform: 'slack' | 'discord' | 'playground'): Promise<boolean> {
  const created = await db.insert(workspaces).values({ id: workspaceId, platform, name: workspaceId }).onConflictDoNothing().returning({ id: workspaces.id });
  await db.insert(channels).values({ id: channelId, workspaceId, name: channelId.split('/').pop() ?? channelId }).onConflictDoNothing();
  return created.length > 0;
}

/**
 * Channels the platform listed with a workspace (Discord's GUILD_CREATE): known at once, so a source
 * can be bound to one before anyone speaks there. Names follow the platform's; cursors stay as they are.
 */
export async function recordChannels(db: Db, workspaceId: string, list: { id: string; name: string }[]): Promise<void> {
  if (list.length === 0) return;
  await db
    .insert(channels)
    .values(list.map((c) => ({ id: c.id, workspaceId, name: c.name })))
    .onConflictDoUpdate({ target: channels.id, set: { name: sql`excluded.name` } });
}

export async function ingestChatMessage(deps: ChatIntakeDeps, message: InboundMessage): Promise<void> {
  if (message.author.isBot) return;
  const payload: ChatEvent = {
    kind: message.mentionsTacit ? 'chat.mention' : 'chat.message',
    channelId: message.channelId,
    messageId: message.messageId,
    threadId: message.threadId,
    author: { id: message.author.id, name: message.author.name },
    text: message.text,
  };
  const dedupeKey = `chat:${message.channelId}:${message.messageId}`;
  const { ids } = await insertEvents(deps, [
    { workspaceId: message.workspaceId, sourceId: null, dedupeKey, urgent: false, occurredAt: new Date(), payload },
  ]);
  if (message.mentionsTacit) {
    // A redelivered mention is a duplicate: look its event up, so a reply lost with a crash still comes.
    const id = ids[0] ?? (await findEventId(deps, message.workspaceId, dedupeKey));
    // Stored first; with Redis away the enqueue finishes when it returns (or the restore finds the mention).
    if (id !== undefined) {
      await boundedSignal(deps.converse(id, message.workspaceId)).catch((err: unknown) => {
        deps.log.warn({ err: (err as Error).message, eventId: id }, 'mention stored; it is answered when Redis answers again');
      });
    }
  }
}

/**
 * An edit replaces the stored text (secrets redacted); a deletion removes it, so what people
 * take back is not kept. An edit of a message Tacit never stored is ingested as a new message.
 */
export async function applyChatChange(deps: ChatIntakeDeps, change: MessageChange): Promise<void> {
  if (change.kind === 'edited') {
    if (change.message.author.isBot) return;
    const key = `chat:${change.message.channelId}:${change.message.messageId}`;
    const text = redactSecrets(change.message.text).text;
    const updated = await deps.db
      .update(events)
      .set({ payload: sql`${events.payload} || jsonb_build_object('text', ${text}::text, 'edited', true)` })
      .where(and(eq(events.workspaceId, change.message.workspaceId), eq(events.dedupeKey, key)))
      .returning({ id: events.id });
    if (updated.length === 0) {
      // The edit may be the first Tacit hears of this channel (the original came while it was down).
      const { workspaceId, channelId } = change.message;
      await ensureChannel(deps.db, workspaceId, channelId, platformOf(workspaceId));
      await ingestChatMessage(deps, { ...change.message, mentionsTacit: false });
    }
    return;
  }
  await deps.db
    .update(events)
    .set({ payload: sql`${events.payload} || '{"text": "", "deleted": true}'::jsonb` })
    .where(and(eq(events.workspaceId, change.workspaceId), eq(events.dedupeKey, `chat:${change.channelId}:${change.messageId}`)));
}

/** Button clicks. Acknowledging an incident is recorded as an event and applied by the next tick. */
export async function handleInteraction(deps: ChatIntakeDeps, interaction: InboundInteraction): Promise<InteractionResponse> {
  if (interaction.actionId === FEEDBACK_ACTION_ID) return recordFeedback({ db: deps.db, log: deps.log, ...deps.feedback }, interaction);
  if (interaction.actionId !== ACK_ACTION_ID) {
    return { privateText: 'That button is not something I know how to handle.' };
  }
  await insertEvents(deps, [
    {
      workspaceId: interaction.workspaceId,
      sourceId: null,
      // Every click is recorded; the tick applies only the first acknowledgement of a firing incident.
      dedupeKey: `ack:${interaction.value}:${randomUUID()}`,
      urgent: true,
      occurredAt: new Date(),
      payload: { kind: 'incident.ack', incidentId: interaction.value, by: interaction.user },
    },
  ]);
  return { privateText: 'Thanks — marking the incident acknowledged by you.' };
}

function platformOf(workspaceId: string): 'slack' | 'discord' | 'playground' {
  const prefix = workspaceId.split(':')[0];
  return prefix === 'slack' || prefix === 'discord' ? prefix : 'playground';
}

async function findEventId(deps: IntakeDeps, workspaceId: string, dedupeKey: string): Promise<number | undefined> {
  const [row] = await deps.db
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.workspaceId, workspaceId), eq(events.dedupeKey, dedupeKey)));
  return row?.id;
}
