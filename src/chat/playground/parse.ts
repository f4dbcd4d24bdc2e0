// Turns what a person typed into the playground into the neutral inbound message.
const MENTION = /(^|\s)@tacit\b[:,]?/i;

export function parseMention(text: string): { mentionsTacit: boolean; text: string } {
  if (!MENTION.test(text)) return { mentionsTacit: false, text };
  return { mentionsTacit: true, text: text.replace(new RegExp(MENTION.source, 'gi'), ' ').replace(/\s+/g, ' ').trim() };
}
