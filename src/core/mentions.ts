// Mentions never come from data or model text: broadcast and user/role mention syntax in any text
// Tacit did not write itself is broken with a zero-width joiner so no platform turns it into a ping.
const ZWJ = '\u2060';

export function neutraliseMentions(text: string): string {
  return text
    .replace(/@(here|channel|everyone|all)\b/gi, `@${ZWJ}$1`)
    .replace(/<([@!#&])/g, `<${ZWJ}$1`);
}
