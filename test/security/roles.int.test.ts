// Who may change Tacit from chat, through the real Bolt app and discord.js against the local Slack and
// Discord: a Slack guest, a Slack Connect user (an admin in their own organisation), a plain Slack
// member and a plain Discord member change nothing and create no source, and are told so privately;
// a Slack workspace admin and a Discord member with Manage Server can. Every answer is in audit_log.
import { and, asc, eq, isNotNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, sources, workspaces } from '../../src/db/schema.js';
import { DEFAULT_GUILD, startFakeDiscord, type FakeDiscord } from '../fakes/discord.js';
import { DEFAULT_TEAM, startFakeSlack, type FakeSlack } from '../fakes/slack.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

const SIGNING_SECRET = 'slack-signing-secret-for-role-tests';
const TEAM = DEFAULT_TEAM.teamId;
const SLACK_WS = `slack:${TEAM}`;
const GUILD = DEFAULT_GUILD.id;
const DISCORD_WS = `discord:${GUILD}`;
const CHANNEL = DEFAULT_GUILD.channels[0]?.id ?? '';
// The guild's owner (its first member) holds every permission; these two are added below.
const MOD = '900000000000000103';
const MEMBER = '900000000000000104';
const MANAGE_GUILD = String(1 << 5);

/** Every setting change a member might try, with the words `/tacit` takes. */
const CHANGES = [
  'pause 7d', 'resume', 'budget 0', 'quiet-hours 00:00-23:59', 'digest 9', 'connect generic', 'forget mem_x',
  'rotate src_x', 'revoke src_x', 'approvers <@U0MEMBER>', 'admins <@U0MEMBER>', 'integration alertmanager http://127.0.0.1:1',
];

describe('roles: who may change Tacit from chat', () => {
  let slack: FakeSlack;
  let discord: FakeDiscord;
  let tacit: TestTacit;
  let hook: string;

  beforeAll(async () => {
    slack = await startFakeSlack({
      teams: [{
        ...DEFAULT_TEAM,
        users: [
          { id: 'U0ADMIN', name: 'ada', role: 'admin' }, { id: 'U0OWNER', name: 'olga', role: 'owner' }, { id: 'U0MEMBER', name: 'max' },
          { id: 'U0GUEST', name: 'gus', role: 'guest' }, { id: 'U0SINGLE', name: 'sam', role: 'single-channel-guest' },
          // An admin of their own organisation, in a Slack Connect channel: external here.
          { id: 'U0EXTERN', name: 'eve', teamId: 'T0OTHERORG', role: 'admin' },
        ],
      }],
    });
    discord = await startFakeDiscord({
      guilds: [{ ...DEFAULT_GUILD, members: [...DEFAULT_GUILD.members, { id: MOD, name: 'mod', permissions: MANAGE_GUILD }, { id: MEMBER, name: 'member', permissions: String((1 << 10) | (1 << 11)) }] }],
    });
    tacit = await startTestTacit({
      env: {
        SLACK_BOT_TOKEN: DEFAULT_TEAM.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl,
        DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_URL: discord.apiUrl, TACIT_PLAYGROUND: 'off',
        TACIT_SECRET_KEY: 'a'.repeat(64),
      },
    });
    hook = `${tacit.url}/slack/events`;
    await waitFor(async () => (await tacit.database.db.select().from(workspaces).where(eq(workspaces.id, DISCORD_WS))).length === 1, { what: 'the guild as a workspace' });
    await tacit.database.db.insert(workspaces).values({ id: SLACK_WS, platform: 'slack', name: 'tacit' }).onConflictDoNothing();
  }, 60_000);
  afterAll(async () => {
    await tacit?.cleanup();
    await slack?.close();
    await discord?.close();
  });

  /** Runs `/tacit <text>` as a Slack user; resolves with the private answer. */
  const slash = async (userId: string, text: string): Promise<{ text: string; ephemeral: boolean }> => {
    const sent = await slack.sendSlashCommand(hook, SIGNING_SECRET, { text, user_id: userId, channel_id: 'C0GENERAL' });
    expect(sent.status).toBe(200);
    const answer = await waitFor(() => slack.responses.find((r) => r.url === sent.responseUrl), { what: `the answer to ${text}` });
    const body = answer.body as { text: string; response_type: string };
    return { text: body.text, ephemeral: body.response_type === 'ephemeral' };
  };
  /** Runs `/tacit <subcommand>` as a Discord member; resolves with the private answer. */
  const command = async (userId: string, sub: string, options: { name: string; type: number; value: string | number | boolean }[] = []): Promise<{ text: string; ephemeral: boolean }> => {
    const run = discord.command(CHANNEL, userId, sub, options);
    const original = await waitFor(() => discord.originals.find((o) => o.token === run.token), { what: `the answer to ${sub}` });
    const deferral = discord.callbacks.find((c) => c.interactionId === run.id);
    return { text: String(original.body.content), ephemeral: ((Number(deferral?.data?.flags) ?? 0) & 64) === 64 };
  };
  const audit = (workspaceId: string, actor: string) =>
    tacit.database.db.select().from(auditLog).where(and(eq(auditLog.workspaceId, workspaceId), eq(auditLog.actor, actor))).orderBy(asc(auditLog.id));
  const settingsOf = async (workspaceId: string) => {
    const [ws] = await tacit.database.db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
    return ws;
  };

  for (const [who, userId, reason] of [
    ['a plain member', 'U0MEMBER', 'not an admin'], ['a multi-channel guest', 'U0GUEST', 'guest'], ['a single-channel guest', 'U0SINGLE', 'guest'],
    ['a Slack Connect user who is an admin at home', 'U0EXTERN', 'external'],
  ] as const) {
    it(`refuses every change from ${who} on Slack, privately, and audits each refusal`, async () => {
      const before = await settingsOf(SLACK_WS);
      for (const text of CHANGES) {
        const answer = await slash(userId, text);
        expect(answer.ephemeral).toBe(true);
        expect(answer.text, text).toMatch(/cannot change Tacit|Only workspace admins/);
        expect(answer.text).not.toMatch(/Token:|URL:/);
      }
      const after = await settingsOf(SLACK_WS);
      expect(after?.settings).toEqual(before?.settings);
      expect(after?.pausedUntil).toBeNull();
      expect(await tacit.database.db.select().from(sources).where(eq(sources.workspaceId, SLACK_WS))).toHaveLength(0);
      const rows = await audit(SLACK_WS, userId);
      expect(rows).toHaveLength(CHANGES.length);
      expect(rows.every((r) => r.outcome === 'refused' && r.detail.reason === reason)).toBe(true);
      expect(rows.map((r) => r.action).sort()).toEqual(CHANGES.map((c) => c.split(' ')[0]).sort());
    });
  }

  it('keeps reading open to a Slack member: status, sources, memory and the current budget', async () => {
    const audited = (await audit(SLACK_WS, 'U0MEMBER')).length;
    expect((await slash('U0MEMBER', 'status')).text).toMatch(/Active|Paused/);
    expect((await slash('U0MEMBER', 'sources')).text).toMatch(/no sources yet|Sources/);
    expect((await slash('U0MEMBER', 'memory')).text).toMatch(/remember/);
    expect((await slash('U0MEMBER', 'budget')).text).toMatch(/^Budget: \d+ unprompted posts/);
    // Reading is not a change: nothing is audited for it.
    expect(await audit(SLACK_WS, 'U0MEMBER')).toHaveLength(audited);
  });

  it('lets a Slack workspace admin change settings and create a source, and an owner too, each change audited', async () => {
    expect((await slash('U0ADMIN', 'budget 5')).text).toMatch(/at most 5 unprompted posts/);
    const connected = await slash('U0ADMIN', 'connect generic');
    expect(connected.text).toMatch(/Connected a generic source/);
    expect(connected.text).toMatch(/Token: tct_/);
    // Escaped slash commands send a channel as <#C…|name>.
    expect((await slash('U0ADMIN', 'connect grafana <#C0GENERAL|general>')).text).toMatch(/Connected a grafana source/);
    expect((await slash('U0OWNER', 'quiet-hours 22:00-07:00 Europe/Berlin')).text).toMatch(/^Quiet hours set/);
    expect((await settingsOf(SLACK_WS))?.settings).toMatchObject({ postsPerChannelPerHour: 5, quietHours: { start: '22:00', end: '07:00' } });
    expect(await tacit.database.db.select().from(sources).where(eq(sources.workspaceId, SLACK_WS))).toHaveLength(2);
    const rows = [...(await audit(SLACK_WS, 'U0ADMIN')), ...(await audit(SLACK_WS, 'U0OWNER'))];
    expect(rows.map((r) => [r.action, r.outcome, r.detail.via])).toEqual([
      ['budget', 'allowed', 'platform admin'], ['connect', 'allowed', 'platform admin'], ['connect', 'allowed', 'platform admin'], ['quiet-hours', 'allowed', 'platform admin'],
    ]);
    // No credential is kept in the audit.
    expect(JSON.stringify(rows)).not.toMatch(/tct_/);
  });

  it('lets an admin add a member to the allow-list (escaped mentions), who may then change settings', async () => {
    // People are named as Slack shows them (users.info), never as raw mention syntax.
    expect((await slash('U0ADMIN', 'admins <@U0MEMBER|max>')).text).toMatch(/these may now change settings: max /);
    expect((await slash('U0MEMBER', 'budget 7')).text).toMatch(/at most 7 unprompted posts/);
    expect((await audit(SLACK_WS, 'U0MEMBER')).at(-1)).toMatchObject({ action: 'budget', outcome: 'allowed', detail: { via: 'allow-list' } });
    // The list never lets a guest or an outsider in.
    expect((await slash('U0ADMIN', 'admins <@U0MEMBER> <@U0GUEST> <@U0EXTERN>')).text).toMatch(/max, gus, eve/);
    expect((await slash('U0GUEST', 'budget 9')).text).toMatch(/Guests cannot/);
    expect((await slash('U0EXTERN', 'budget 9')).text).toMatch(/another organisation/);
    await slash('U0ADMIN', 'admins none');
    expect((await slash('U0MEMBER', 'budget 8')).text).toMatch(/Only workspace admins/);
  });

  it('lets a Slack admin set approvers from the text form, people and user groups', async () => {
    const answer = await slash('U0ADMIN', 'approvers <@U0ADMIN|ada> <!subteam^S0ONCALL|@oncall> two-person');
    expect(answer.text).toMatch(/Approvers set by/);
    expect((await settingsOf(SLACK_WS))?.settings.approvers).toEqual({ users: ['U0ADMIN'], groups: ['S0ONCALL'], twoPerson: true });
    expect((await slash('U0MEMBER', 'approvers')).text).toMatch(/Approvers: ada, group S0ONCALL; two-person rule on/);
  });

  it('opens the settings modal for a Slack admin and applies its submission as checked, audited commands', async () => {
    const before = slack.modals.length;
    expect((await slash('U0MEMBER', 'setup')).text).toMatch(/Only workspace admins/);
    expect(slack.modals).toHaveLength(before);

    const sent = await slack.sendSlashCommand(hook, SIGNING_SECRET, { text: 'setup', user_id: 'U0ADMIN', channel_id: 'C0GENERAL' });
    const modal = await waitFor(() => slack.modals[before], { what: 'the settings modal' });
    expect(modal).toMatchObject({ userId: 'U0ADMIN', view: { type: 'modal', callback_id: 'tacit.settings' } });
    // Filled with today's approvers (set by the text form above).
    expect(JSON.stringify(modal.view.blocks)).toContain('"initial_users":["U0ADMIN"]');
    expect(slack.responses.find((r) => r.url === sent.responseUrl)).toBeUndefined();

    const ephemerals = slack.ephemerals.length;
    const submitted = await slack.submitView(hook, SIGNING_SECRET, modal.viewId, {
      approvers: { users: { type: 'multi_users_select', selected_users: ['U0ADMIN', 'U0OWNER'] } },
      groups: { ids: { type: 'plain_text_input', value: 'S0ONCALL' } },
      two_person: { on: { type: 'checkboxes', selected_options: [] } },
      alertmanager: { url: { type: 'url_text_input', value: 'http://127.0.0.1:9093' } },
    });
    expect(submitted.status).toBe(200);
    const answer = await waitFor(() => slack.ephemerals.slice(ephemerals).find((e) => e.user === 'U0ADMIN'), { what: 'the private answer' });
    expect(answer.text).toMatch(/Approvers set by .*Alertmanager set/s);
    expect((await settingsOf(SLACK_WS))?.settings.approvers).toEqual({ users: ['U0ADMIN', 'U0OWNER'], groups: ['S0ONCALL'], twoPerson: false });
    const rows = (await audit(SLACK_WS, 'U0ADMIN')).slice(-3);
    expect(rows.map((r) => [r.action, r.outcome])).toEqual([['setup', 'allowed'], ['approvers', 'allowed'], ['integration', 'allowed']]);
  });

  it('answers with the commands to type when Slack will not open the modal (an expired trigger)', async () => {
    slack.failNext('views.open', 'expired_trigger_id');
    expect((await slash('U0ADMIN', 'setup')).text).toMatch(/`\/tacit approvers @a @b \[two-person\]`/);
  });

  it('refuses every change from a plain Discord member, privately, and audits each refusal', async () => {
    for (const [sub, options] of [
      ['pause', [{ name: 'duration', type: 3, value: '7d' }]], ['budget', [{ name: 'posts', type: 4, value: 0 }]],
      ['connect', [{ name: 'kind', type: 3, value: 'generic' }]], ['revoke', [{ name: 'id', type: 3, value: 'src_x' }]],
      ['approvers', [{ name: 'people', type: 3, value: `<@${MEMBER}>` }]],
      ['integration', [{ name: 'kind', type: 3, value: 'alertmanager' }, { name: 'url', type: 3, value: 'http://127.0.0.1:1' }]],
    ] as const) {
      const answer = await command(MEMBER, sub, [...options]);
      expect(answer.ephemeral).toBe(true);
      expect(answer.text, sub).toMatch(/Only workspace admins/);
    }
    expect((await command(MEMBER, 'status')).text).toMatch(/Active/);
    expect(await tacit.database.db.select().from(sources).where(eq(sources.workspaceId, DISCORD_WS))).toHaveLength(0);
    expect((await settingsOf(DISCORD_WS))?.pausedUntil).toBeNull();
    const rows = await audit(DISCORD_WS, MEMBER);
    expect(rows.map((r) => [r.action, r.outcome])).toEqual(['pause', 'budget', 'connect', 'revoke', 'approvers', 'integration'].map((a) => [a, 'refused']));
  });

  it('lets a Discord member with Manage Server connect a source and set approvers and the Alertmanager', async () => {
    const connected = await command(MOD, 'connect', [{ name: 'kind', type: 3, value: 'alertmanager' }]);
    expect(connected.text).toMatch(/Connected a alertmanager source/);
    const role = DEFAULT_GUILD.roles?.[0]?.id ?? '';
    expect((await command(MOD, 'approvers', [{ name: 'people', type: 3, value: `<@${MOD}> <@&${role}>` }, { name: 'two-person', type: 5, value: true }])).text).toMatch(/Approvers set/);
    expect((await settingsOf(DISCORD_WS))?.settings.approvers).toEqual({ users: [MOD], groups: [role], twoPerson: true });
    const set = await command(MOD, 'integration', [{ name: 'kind', type: 3, value: 'alertmanager' }, { name: 'url', type: 3, value: 'http://127.0.0.1:9093' }, { name: 'authorization', type: 3, value: 'Bearer am-secret' }]);
    expect(set.text).toMatch(/Alertmanager set: silences I am asked for go to http:\/\/127.0.0.1:9093/);
    expect(set.text).not.toContain('am-secret');
    const rows = await audit(DISCORD_WS, MOD);
    expect(rows.map((r) => [r.action, r.outcome])).toEqual([['connect', 'allowed'], ['approvers', 'allowed'], ['integration', 'allowed']]);
    expect(JSON.stringify(rows)).not.toContain('am-secret');
    expect(await tacit.database.db.select().from(sources).where(and(eq(sources.workspaceId, DISCORD_WS), isNotNull(sources.tokenHash)))).toHaveLength(1);
  });

  it('registers /tacit with the source and approver subcommands', () => {
    const registered = (discord.commands as { name: string; options: { name: string }[]; default_member_permissions?: unknown }[]).find((c) => c.name === 'tacit');
    expect(registered?.options.map((o) => o.name)).toEqual(expect.arrayContaining(['sources', 'rotate', 'revoke', 'approvers', 'admins', 'integration']));
  });
});
