// The one interface the shared scenarios drive a chat platform through (playground, Slack, Discord):
// start Tacit on it, act as people in one channel, and read back what Tacit posted there.
import type { TestTacit } from './tacit.js';

/** A button on a message, in the neutral model's terms (Slack action_id/value, Discord custom_id). */
export interface ScenarioButton {
  actionId: string;
  value: string;
  label: string;
}

/** One of Tacit's messages as a person sees it on the platform, edits applied. */
export interface ScenarioMessage {
  /** The platform's own id (playground `pm_…`, Slack ts, Discord snowflake). */
  id: string;
  /** The id of the message whose thread this is in; null at the channel's top level. */
  threadId: string | null;
  /** The first line people read, without markup (Discord's `### 🟠` heading prefix removed). */
  headline: string;
  /** Everything visible: fallback text and every block, one per line. */
  text: string;
  buttons: ScenarioButton[];
  files: { filename: string; content: string }[];
  edited: boolean;
}

export interface Driver {
  readonly platform: 'playground' | 'slack' | 'discord';
  /** `playground:local`, `slack:T…`, `discord:<guildId>`. */
  readonly workspaceId: string;
  /** Platform user ids: someone the scenario makes an approver, and someone it does not. */
  readonly people: { approver: string; bystander: string };
  /** Starts a whole Tacit on this platform (with its fake), `env` added to the platform's own. */
  start(env: Record<string, string>): Promise<TestTacit>;
  /** A person writes `text` in the channel mentioning Tacit; resolves with the message id (its thread's id). */
  mention(userId: string, text: string): Promise<string>;
  /** A person runs `/tacit <text>` in the channel; resolves with Tacit's private answer. */
  command(userId: string, text: string): Promise<string>;
  /** Tacit's messages in the channel and in every thread of it, oldest first. */
  botMessages(): Promise<ScenarioMessage[]>;
  /** A person clicks a button; resolves with what only they are shown in answer. */
  click(userId: string, message: ScenarioMessage, button: ScenarioButton): Promise<string>;
  /** Stops Tacit (dropping its database and Redis keys) and the platform's fake. */
  stop(): Promise<void>;
}

/** Matches Tacit's `/tacit connect` answer, on any platform. */
export function parseConnectAnswer(text: string): { url: string; token: string } {
  const url = /URL: (\S+)/.exec(text)?.[1];
  const token = /Token: (\S+)/.exec(text)?.[1];
  if (!url || !token) throw new Error(`the /tacit connect answer has no URL and token: ${text}`);
  return { url, token };
}
