// Bolt listeners: what Slack sends becomes the neutral inbound model. Slack wants an answer within
// 3 s. Bolt answers after the listeners finish (processBeforeResponse), so channel traffic is stored
// before the 200 and a failure is answered so that Slack retries (X-Slack-Retry-Num); ingestion dedupes
// on the message id, so a retry is a duplicate, never a second effect. Interactions and commands are
// acknowledged first and their work runs after the answer (`afterAck`).
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../log.js';
import type { Actor, InboundHandlers } from '../port.js';
import { parseSlackEvent, type SlackMessageEvent } from './parse.js';
import { DENY_REASON_ACTION_ID } from '../../core/approval-card.js';
import { DENY_REASON_CALLBACK_ID, denyReasonModal, submittedDenial } from './deny-form.js';
import { renderPrivate } from './render.js';
import { SLASH_COMMAND } from './scopes.js';
import { SETTINGS_CALLBACK_ID, settingsCommands, settingsModal } from './settings-form.js';
import type { BotAuth, TokenSource } from './tokens.js';
import { channelId, workspaceId } from './types.js';

export interface InboundDeps {
  app: App;
  client: WebClient;
  tokens: TokenSource;
  handlers: InboundHandlers;
  log: Logger;
  /** Publishes the App Home of a person who opened it. */
  publishHome?: (auth: BotAuth, userId: string) => Promise<void>;
  /** The DM channel (Slack id) with a person, opened once and cached by the adapter. */
  openDirect: (teamId: string, userId: string) => Promise<string>;
  /** The team uninstalled Tacit or revoked its bot token. */
  removed: (teamId: string) => Promise<void>;
}

interface ClickBody {
  user: { id: string; username?: string; name?: string; team_id?: string };
  team?: { id: string } | null;
  channel?: { id: string };
  message?: { ts: string };
  container?: { message_ts?: string; channel_id?: string };
  trigger_id?: string;
}

export function registerInbound(deps: InboundDeps): void {
  const { app, tokens, handlers, log } = deps;
  const teamOf = (context: { teamId?: string }, body: { team_id?: string; team?: { id: string } | null }): string =>
    context.teamId ?? body.team_id ?? body.team?.id ?? '';

  const onMessage = async (teamId: string, event: SlackMessageEvent) => {
    const auth = await tokens.auth(teamId);
    const parsed = parseSlackEvent(event, teamId, auth.botUserId);
    if (parsed.kind === 'message') await handlers.message(parsed.message);
    else if (parsed.kind === 'edited') await handlers.messageChanged({ kind: 'edited', message: parsed.message });
    else if (parsed.kind === 'deleted') await handlers.messageChanged(parsed);
    else log.debug({ reason: parsed.reason, workspaceId: workspaceId(teamId) }, 'slack message ignored');
  };
  app.event('app_mention', async ({ event, context, body }) => onMessage(teamOf(context, body), event as unknown as SlackMessageEvent));
  // Mentions also arrive as app_mention; the message copy is ingested as channel traffic (same id, deduped).
  app.event('message', async ({ event, context, body }) => onMessage(teamOf(context, body), { ...(event as unknown as SlackMessageEvent), type: 'message' }));

  app.action(/.*/, async ({ ack, body, action, respond, context }) => {
    await ack();
    afterAck(log, 'slack click', async () => {
      const b = body as unknown as ClickBody;
      const teamId = teamOf(context, b);
      const a = action as unknown as { action_id: string; value?: string };
      const user = await actor(deps, teamId, b.user.id, b.user.username ?? b.user.name ?? b.user.id, b.user.team_id);
      const [channel, messageTs] = [b.channel?.id ?? b.container?.channel_id ?? '', b.message?.ts ?? b.container?.message_ts ?? ''];
      const response = await handlers.interaction({
        workspaceId: workspaceId(teamId), channelId: channelId(teamId, channel), messageId: messageTs,
        actionId: a.action_id, value: a.value ?? '', user, raw: body,
      });
      // A Deny asks why first: the modal's submission denies (below); nothing was decided yet.
      if (response.form?.kind === 'deny_reason') {
        if (b.trigger_id && (await openForm(deps, teamId, b.trigger_id, denyReasonModal(response.form, { channel, messageTs })))) return;
        await respond({ response_type: 'ephemeral', replace_original: false, ...renderPrivate('I could not open the form asking why; nothing was decided. Press Deny again.') });
        return;
      }
      if (response.privateText) await respond({ response_type: 'ephemeral', replace_original: false, ...renderPrivate(response.privateText) });
    });
  });

  app.command(SLASH_COMMAND, async ({ ack, command, respond, context }) => {
    await ack();
    afterAck(log, 'slack command', async () => {
      const teamId = context.teamId ?? command.team_id;
      // A slash command does not say which organisation the person belongs to: users.info does.
      const user = await actor(deps, teamId, command.user_id, command.user_name, undefined);
      const response = await handlers.command({ workspaceId: workspaceId(teamId), channelId: channelId(teamId, command.channel_id), user, text: command.text, raw: command });
      if (response.form?.kind === 'settings' && (await openForm(deps, teamId, command.trigger_id, settingsModal(response.form, command.channel_id)))) return;
      await respond({ response_type: 'ephemeral', ...renderPrivate(response.privateText ?? 'Done.') });
    });
  });

  // The settings modal was submitted: each part runs as the `/tacit` command it stands for, checked
  // and audited like a typed one (the submitter is looked up again, not trusted from the opening).
  app.view(SETTINGS_CALLBACK_ID, async ({ ack, body, view, context }) => {
    await ack();
    afterAck(log, 'slack settings form', async () => {
      const b = body as unknown as ClickBody;
      const teamId = teamOf(context, b);
      const user = await actor(deps, teamId, b.user.id, b.user.username ?? b.user.name ?? b.user.id, b.user.team_id);
      const { channel, commands } = settingsCommands(view as unknown as Parameters<typeof settingsCommands>[0]);
      const answers: string[] = [];
      for (const text of commands) {
        const response = await handlers.command({ workspaceId: workspaceId(teamId), channelId: channelId(teamId, channel), user, text, raw: body });
        if (response.privateText) answers.push(response.privateText);
      }
      const auth = await tokens.auth(teamId);
      const where = channel || (await deps.openDirect(teamId, b.user.id));
      await deps.client.chat.postEphemeral({ token: auth.token, channel: where, user: b.user.id, ...renderPrivate(answers.join('\n') || 'Saved.') });
    });
  });

  // The deny form submitted: the reason goes to the approvals as the neutral `approval_deny_reason`.
  app.view(DENY_REASON_CALLBACK_ID, async ({ ack, body, view, context }) => {
    await ack();
    afterAck(log, 'slack deny form', async () => {
      const b = body as unknown as ClickBody;
      const teamId = teamOf(context, b);
      const denial = submittedDenial(view as unknown as Parameters<typeof submittedDenial>[0]);
      if (!denial) return;
      const user = await actor(deps, teamId, b.user.id, b.user.username ?? b.user.name ?? b.user.id, b.user.team_id);
      const response = await handlers.interaction({
        workspaceId: workspaceId(teamId), channelId: channelId(teamId, denial.channel), messageId: denial.messageTs,
        actionId: DENY_REASON_ACTION_ID, value: denial.approvalId, text: denial.reason, user, raw: body,
      });
      const auth = await tokens.auth(teamId);
      await deps.client.chat.postEphemeral({ token: auth.token, channel: denial.channel, user: b.user.id, ...renderPrivate(response.privateText ?? 'Denied.') });
    });
  });

  app.event('app_home_opened', async ({ event, context, body }) => {
    const publish = deps.publishHome;
    if (event.tab !== 'home' || !publish) return;
    afterAck(log, 'slack app home', async () => publish(await tokens.auth(teamOf(context, body)), event.user));
  });
  app.event('app_uninstalled', async ({ context, body }) => deps.removed(teamOf(context, body)));
  app.event('tokens_revoked', async ({ event, context, body }) => {
    // Only a revoked bot token stops Tacit; user tokens are not used.
    if ((event.tokens.bot ?? []).length > 0) await deps.removed(teamOf(context, body));
  });
}

/** Opens a modal from a command's or click's trigger_id (valid 3 s, once); false when Slack refused it. */
async function openForm(deps: InboundDeps, teamId: string, triggerId: string, view: Record<string, unknown>): Promise<boolean> {
  try {
    const auth = await deps.tokens.auth(teamId);
    await deps.client.views.open({ token: auth.token, trigger_id: triggerId, view: view as unknown as Parameters<WebClient['views']['open']>[0]['view'] });
    return true;
  } catch (err) {
    deps.log.warn({ err, workspaceId: workspaceId(teamId) }, 'could not open a form (the trigger expired, or Slack refused the view); answering in text instead');
    return false;
  }
}

/** Work that follows an acknowledgement: Bolt's answer waits for the listener, this does not. */
function afterAck(log: Logger, what: string, work: () => Promise<void>): void {
  work().catch((err: unknown) => log.error({ err }, `${what} failed after it was acknowledged`));
}

/**
 * Who clicked or ran a command, with what users.info says about them: `external` marks people from
 * another organisation (Slack Connect, a foreign enterprise), who never approve or change anything;
 * `admin` a workspace admin or owner; `guest` a multi- or single-channel guest. When Slack cannot
 * say, the person counts as external and no admin.
 */
async function actor(deps: InboundDeps, teamId: string, userId: string, name: string, homeTeam: string | undefined): Promise<Actor> {
  try {
    const auth = await deps.tokens.auth(teamId);
    if (homeTeam !== undefined && homeTeam !== teamId && !auth.enterpriseId) return { id: userId, name, external: true, admin: false };
    const res = await deps.client.users.info({ token: auth.token, user: userId });
    const user = res.user as SlackUserInfo | undefined;
    const sameTeam = user?.team_id === teamId;
    const sameOrg = auth.enterpriseId !== undefined && user?.enterprise_user?.enterprise_id === auth.enterpriseId;
    const external = !(sameTeam || sameOrg);
    return {
      id: userId, name, external,
      admin: !external && Boolean(user?.is_admin || user?.is_owner || user?.is_primary_owner),
      guest: Boolean(user?.is_restricted || user?.is_ultra_restricted),
    };
  } catch (err) {
    deps.log.warn({ err, workspaceId: workspaceId(teamId), userId }, 'could not tell who a Slack user is (users.info); treating them as external');
    return { id: userId, name, external: homeTeam !== teamId, admin: false, guest: homeTeam !== teamId };
  }
}

/** The parts of users.info's `user` that decide what a person may do. */
interface SlackUserInfo {
  team_id?: string;
  enterprise_user?: { enterprise_id?: string };
  is_admin?: boolean;
  is_owner?: boolean;
  is_primary_owner?: boolean;
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
}
