// The scenario driver for Discord: Tacit's real discord.js client against the local Discord; people
// write and click through the gateway, and private answers are the interactions' ephemeral replies.
import { buttonsOf, DEFAULT_GUILD, startFakeDiscord, visibleText, type FakeDiscord, type Message } from '../fakes/discord.js';
import type { Driver, ScenarioMessage } from './scenario-driver.js';
import { startTestTacit, type TestTacit } from './tacit.js';
import { waitFor } from './wait.js';

const CHANNEL = DEFAULT_GUILD.channels[0]?.id ?? '';
const [ALICE = '', BOB = ''] = DEFAULT_GUILD.members.map((m) => m.id);
// The outbox key rides in Discord content as zero-width characters; people do not see them.
const INVISIBLE = /[\u2063\u200b\u200c\u200d\u2062]/g;
/** Discord shows `\*` as `*`: escaped data reads as it was written. */
const ESCAPED = /\\([\\*_~`|[\]()#>-])/g;
/** A Deny opens a modal asking why; a scenario person gives this reason. */
const DENY_REASON = 'not now (scenario)';
const STRING_OPTION = 3;

interface RegisteredCommand {
  name: string;
  options?: { name: string; type: number; options?: { name: string; type: number }[] }[];
}

/** `### 🟠 Approval needed: …` → `Approval needed: …` */
function headlineOf(content: string): string {
  return (content.split('\n')[0] ?? '').replace(/^#{1,3}\s+/, '').replace(/^\p{Extended_Pictographic}\uFE0F?\s+/u, '');
}

export function discordDriver(): Driver {
  let discord: FakeDiscord | undefined;
  let tacit: TestTacit | undefined;
  const need = (): FakeDiscord => {
    if (!discord || !tacit) throw new Error('start the Discord driver first');
    return discord;
  };
  const nameOf = (userId: string): string => DEFAULT_GUILD.members.find((m) => m.id === userId)?.name ?? userId;

  const toScenario = (m: Message): ScenarioMessage => {
    const d = need();
    // A card (Components V2) is its text displays; anything else its content.
    const content = visibleText(m).replace(INVISIBLE, '').replace(ESCAPED, '$1');
    // Attachments as stored carry no bytes; the bytes are what Tacit uploaded with the create or edit.
    const uploads = [...d.posts.filter((p) => p.message.id === m.id).flatMap((p) => p.files), ...d.edits.filter((e) => e.messageId === m.id).flatMap((e) => e.files)];
    return {
      id: m.id,
      threadId: m.channel_id === CHANNEL ? null : m.channel_id,
      headline: headlineOf(content),
      text: content,
      buttons: buttonsOf(m).map((b) => {
        const id = b.custom_id;
        const at = id.indexOf(':');
        return { actionId: at < 0 ? id : id.slice(0, at), value: at < 0 ? '' : id.slice(at + 1), label: b.label ?? '' };
      }),
      files: m.attachments.map((a) => ({ filename: a.filename, content: uploads.findLast((f) => f.filename === a.filename)?.content ?? '' })),
      edited: m.edited_timestamp !== null,
    };
  };

  return {
    platform: 'discord',
    workspaceId: `discord:${DEFAULT_GUILD.id}`,
    people: { approver: ALICE, bystander: BOB },
    async start(env) {
      discord = await startFakeDiscord({ heartbeatIntervalMs: 1_000 });
      tacit = await startTestTacit({
        env: { DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_URL: discord.apiUrl, TACIT_PLAYGROUND: 'off', ...env },
      });
      const d = discord;
      await waitFor(() => (d.commands as RegisteredCommand[]).some((c) => c.name === 'tacit'), { what: '/tacit to be registered' });
      return tacit;
    },
    async mention(userId, text) {
      const d = need();
      return d.say(CHANNEL, userId, `<@${d.botUser.id}> ${text}`).id;
    },
    async command(userId, text) {
      const d = need();
      // A person fills the subcommand's options in the order Tacit registered them.
      const [sub = '', ...words] = text.split(/\s+/);
      const registered = (d.commands as RegisteredCommand[]).find((c) => c.name === 'tacit')?.options?.find((o) => o.name === sub);
      if (!registered) throw new Error(`Tacit registered no /tacit ${sub}`);
      const options = words.map((value, i) => {
        const option = registered.options?.[i];
        if (option?.type !== STRING_OPTION) throw new Error(`/tacit ${sub} has no text option at position ${i + 1} for ${value}`);
        return { name: option.name, type: STRING_OPTION, value };
      });
      const run = d.command(CHANNEL, userId, sub, options);
      const answer = await waitFor(() => d.originals.find((o) => o.token === run.token), { what: `Tacit's private answer to /tacit ${text}` });
      const deferred = d.callbacks.find((c) => c.interactionId === run.id);
      if ((Number(deferred?.data?.flags ?? 0) & 64) === 0) throw new Error(`the answer to /tacit ${text} was not ephemeral`);
      return String(answer.body.content ?? '');
    },
    async botMessages() {
      const d = need();
      const threads = d.threads.filter((t) => t.parent_id === CHANNEL).map((t) => t.id);
      return [CHANNEL, ...threads]
        .flatMap((id) => d.history(id))
        .filter((m) => m.author.id === d.botUser.id)
        .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
        .map(toScenario);
    },
    async click(userId, message, button) {
      const d = need();
      const channel = message.threadId ?? CHANNEL;
      const customId = `${button.actionId}:${button.value}`;
      const click = d.click(channel, message.id, customId, userId);
      // Either a private answer, or a form (Deny asks why) that the person fills in and submits.
      const first = await waitFor(
        () => d.followups.find((f) => f.token === click.token) ?? d.callbacks.find((c) => c.interactionId === click.id && c.type === 9),
        { what: `Tacit's private answer to ${nameOf(userId)}'s click on ${button.label}` },
      );
      let token = click.token;
      if ('interactionId' in first) {
        const modalId = String(first.data?.custom_id ?? '');
        token = d.submitModal(channel, message.id, modalId, userId, { reason: DENY_REASON }).token;
      }
      const answer = await waitFor(() => d.followups.find((f) => f.token === token), { what: `Tacit's private answer to ${nameOf(userId)}'s ${button.label}` });
      if (!answer.ephemeral) throw new Error(`the answer to ${nameOf(userId)}'s click was not ephemeral`);
      return String(answer.body.content ?? '');
    },
    async stop() {
      await tacit?.cleanup();
      await discord?.close();
    },
  };
}
