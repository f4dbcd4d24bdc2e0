// Acts in the playground as a person on call would: clicks a card's buttons, runs `/tacit …`.
import type { WireMessage } from '../../src/chat/playground/types.js';

export async function click(baseUrl: string, userId: string, messageId: string, actionId: string, value: string): Promise<string> {
  const res = await fetch(`${baseUrl}/playground/api/actions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, messageId, actionId, value }),
  });
  if (!res.ok) throw new Error(`click: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { privateText?: string }).privateText ?? '';
}

/** The playground's `/tacit …`: answered privately, never posted. */
export async function command(baseUrl: string, userId: string, text: string): Promise<string> {
  const res = await fetch(`${baseUrl}/playground/api/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, channelId: 'playground:incidents', text: `/tacit ${text}` }),
  });
  if (!res.ok) throw new Error(`/tacit ${text}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { privateText?: string }).privateText ?? '';
}

export function buttonsOf(m: WireMessage): { actionId: string; value: string; label: string }[] {
  return (m.blocks as { kind?: string; buttons?: { actionId: string; value: string; label: string }[] }[]).flatMap((b) => (b.kind === 'actions' ? (b.buttons ?? []) : []));
}
