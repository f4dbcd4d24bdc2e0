// Renders the neutral message model for the playground page: mentions neutralised in every text.
import type { Block, OutgoingMessage } from '../../core/message.js';
import { neutraliseMentions } from '../../core/mentions.js';

/** A file is shown as a block of its own, after the message's blocks. */
export type PlaygroundBlock = Block | { kind: 'file'; filename: string; content: string };

export function render(message: OutgoingMessage): { text: string; blocks: PlaygroundBlock[] } {
  const n = neutraliseMentions;
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
  const file: PlaygroundBlock[] = message.file ? [{ kind: 'file', filename: message.file.filename, content: n(message.file.content) }] : [];
  return { text: n(message.text), blocks: [...blocks, ...file] };
}
