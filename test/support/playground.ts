// Reads and writes the playground channel through its HTTP API, as the page does.
import { readFileSync } from 'node:fs';
import type { WireMessage } from '../../src/chat/playground/types.js';

export function fixture(path: string): Buffer {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url));
}

export async function channelMessages(baseUrl: string): Promise<WireMessage[]> {
  const res = await fetch(`${baseUrl}/playground/api/state`);
  if (!res.ok) throw new Error(`playground state: ${res.status}`);
  return ((await res.json()) as { messages: WireMessage[] }).messages;
}

export async function say(baseUrl: string, userId: string, text: string, threadId?: string): Promise<string> {
  const res = await fetch(`${baseUrl}/playground/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, channelId: 'playground:incidents', text, threadId }),
  });
  if (res.status !== 201) throw new Error(`playground post: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

export function postAlert(baseUrl: string, sourceId: string, token: string | undefined, body: Buffer | string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(`${baseUrl}/hooks/alerts/${sourceId}`, { method: 'POST', headers, body });
}

export function blockTexts(m: WireMessage): string {
  return [m.text, ...m.blocks.map((b) => JSON.stringify(b))].join('\n');
}
