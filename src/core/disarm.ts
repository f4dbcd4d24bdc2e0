// Text from data (alert titles, channel messages, model output quoting them) made harmless to show on
// any platform: mentions neutralised, and every link spelled out as `label (address)` so no label can
// disguise where it leads (`<https://evil.example|open the runbook>`, `[open the runbook](https://…)`).
import { neutraliseMentions } from './mentions.js';

const MARKDOWN_LINK = /!?\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"\n]*")?\s*\)/g;
/** Slack's `<url|label>` (and Discord's look-alike): any scheme, since Slack links more than http. */
const ANGLE_LINK = /<([a-z][a-z0-9+.-]*:[^|>\s]+)\|([^>\n]*)>/gi;

function spelledOut(label: string, url: string): string {
  const shown = label.trim();
  return shown === '' || shown === url ? url : `${shown} (${url})`;
}

/** Links with a label become `label (address)`; nothing else changes. */
export function spellOutLinks(text: string): string {
  return text.replace(MARKDOWN_LINK, (_m, label: string, url: string) => spelledOut(label, url)).replace(ANGLE_LINK, (_m, url: string, label: string) => spelledOut(label, url));
}

/** Links spelled out and mentions neutralised: what every renderer applies to text from data. */
export function disarm(text: string): string {
  return neutraliseMentions(spellOutLinks(text));
}
