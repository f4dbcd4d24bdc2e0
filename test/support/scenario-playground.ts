// The scenario driver for the playground: people act through its HTTP API, as the page does.
import type { WireMessage } from '../../src/chat/playground/types.js';
import { tacitCommand } from './commands.js';
import { channelMessages, say } from './playground.js';
import type { Driver, ScenarioButton, ScenarioMessage } from './scenario-driver.js';
import { startTestTacit, type TestTacit } from './tacit.js';

const CHANNEL = 'playground:incidents';

type PlaygroundBlock =
  | { kind: 'header' | 'section' | 'context'; text: string }
  | { kind: 'fields'; fields: { label: string; value: string }[] }
  | { kind: 'actions'; buttons: ScenarioButton[] }
  | { kind: 'file'; filename: string; content: string };

function toScenario(m: WireMessage): ScenarioMessage {
  const blocks = m.blocks as PlaygroundBlock[];
  const lines = blocks.flatMap((b) => {
    switch (b.kind) {
      case 'fields':
        return b.fields.map((f) => `${f.label}: ${f.value}`);
      case 'actions':
        return b.buttons.map((x) => x.label);
      case 'file':
        return [b.filename];
      default:
        return [b.text];
    }
  });
  return {
    id: m.id,
    threadId: m.threadId,
    headline: m.text.split('\n')[0] ?? '',
    text: [m.text, ...lines].join('\n'),
    buttons: blocks.flatMap((b) => (b.kind === 'actions' ? b.buttons.map(({ actionId, value, label }) => ({ actionId, value, label })) : [])),
    files: blocks.flatMap((b) => (b.kind === 'file' ? [{ filename: b.filename, content: b.content }] : [])),
    edited: m.editedAt !== null,
  };
}

/** `embedded`: Tacit on the embedded database (PGlite), the README's default, instead of PostgreSQL. */
export function playgroundDriver(opts: { embedded?: boolean } = {}): Driver {
  let tacit: TestTacit | undefined;
  const url = (): string => {
    if (!tacit) throw new Error('start the playground driver first');
    return tacit.url;
  };
  return {
    platform: 'playground',
    workspaceId: 'playground:local',
    people: { approver: 'alice', bystander: 'bob' },
    async start(env) {
      tacit = await startTestTacit({ env: { TACIT_PLAYGROUND: 'on', ...env }, embedded: opts.embedded });
      return tacit;
    },
    mention: (userId, text) => say(url(), userId, `@tacit ${text}`),
    command: (userId, text) => tacitCommand(url(), userId, `/tacit ${text}`),
    async botMessages() {
      return (await channelMessages(url())).filter((m) => m.channelId === CHANNEL && m.author.isBot).map(toScenario);
    },
    async click(userId, message, button) {
      const res = await fetch(`${url()}/playground/api/actions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId, messageId: message.id, actionId: button.actionId, value: button.value }),
      });
      if (!res.ok) throw new Error(`playground click: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { privateText?: string }).privateText ?? '';
    },
    async stop() {
      await tacit?.cleanup();
    },
  };
}
