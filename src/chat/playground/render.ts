// The one way text reaches the playground page: posts, edits, DMs and private answers (commands,
// clicks) render here, every text disarmed (core/disarm; the page inserts text, never HTML).
import type { Block, OutgoingMessage } from '../../core/message.js';
import { disarm } from '../../core/disarm.js';
import type { InteractionResponse } from '../port.js';

/** A file is shown as a block of its own, after the message's blocks. */
export type PlaygroundBlock = Block | { kind: 'file'; filename: string; content: string; encoding?: 'base64'; contentType?: string };

export function render(message: OutgoingMessage): { text: string; blocks: PlaygroundBlock[] } {
  const n = disarm;
  const blocks = (message.blocks ?? []).map((b): Block => {
    switch (b.kind) {
      case 'header':
      case 'section':
      case 'context':
        return { ...b, text: n(b.text) };
      case 'fields':
        return { kind: 'fields', fields: b.fields.map((f) => ({ label: n(f.label), value: n(f.value) })) };
      case 'actions':
        return { kind: 'actions', buttons: b.buttons.map((x) => ({ ...x, label: n(x.label) })) };
      default: {
        const never: never = b;
        throw new Error(`unhandled block ${JSON.stringify(never)}`);
      }
    }
  });
  const f = message.file;
  // A binary file (a chart) is bytes, not text: shown as an image, never neutralised.
  const file: PlaygroundBlock[] = f ? [f.encoding === 'base64' ? { kind: 'file', filename: f.filename, content: f.content, encoding: 'base64', ...(f.contentType ? { contentType: f.contentType } : {}) } : { kind: 'file', filename: f.filename, content: n(f.content) }] : [];
  return { text: n(message.text), blocks: [...blocks, ...file] };
}

/** A private answer as the page receives it (shown only to the person who asked). */
export function renderPrivate(response: InteractionResponse): InteractionResponse {
  const { privateText, ...rest } = response;
  return privateText === undefined ? rest : { ...rest, privateText: disarm(privateText) };
}
