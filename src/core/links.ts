// Link restriction for text Tacit posts: images always go and links only to allowed hosts stay, so model output cannot exfiltrate data through a URL.

const IMAGE = String.raw`!\[[^\]]*\]\(\s*(?<imageUrl><[^>\n]*>|(?:[^()\s]|\([^()\s]*\))*)(?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\)`;
const REFERENCE_IMAGE = String.raw`!\[[^\]]*\]\[[^\]\n]*\]`;
const HTML_IMAGE = String.raw`<img\b(?<htmlImage>[^>]*)>`;
const SLACK_LINK = String.raw`<(?<slackUrl>(?:https?|ftp|file|data|javascript|vbscript|mailto):[^|>\s]*)(?:\|[^>]*)?>`;
const MARKDOWN_LINK = String.raw`\[[^[\]]*\]\(\s*(?<linkUrl><[^>\n]*>|(?:[^()\s]|\([^()\s]*\))*)(?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\)`;
// Not inside a marker this function wrote, so a removed `www.evil.example` is not rewritten again.
const BARE_URL = String.raw`(?<!\[(?:link|image) removed: [^\]\s]*)\b(?<bareUrl>(?:https?:\/\/|www\.)[^\s<>"'\x60]+)`;
const SCRIPT_URL = String.raw`\b(?<scriptUrl>(?:javascript|vbscript):[^\s<>"']+|data:[a-z]+\/[a-z0-9.+-]+[;,][^\s<>"')]*)`;

// One left-to-right scan, so a link kept as a whole is not looked at again as a bare URL.
const LINKS = new RegExp(
  [IMAGE, REFERENCE_IMAGE, HTML_IMAGE, SLACK_LINK, MARKDOWN_LINK, BARE_URL, SCRIPT_URL].join('|'),
  'gi',
);

type Verdict = { keep: true } | { keep: false; host: string };

/**
 * Removes every image, and every link whose host is neither an allowed host nor a subdomain of one,
 * replacing it with ``[link removed: `<host>`]``; `removed` lists the URLs taken out.
 */
export function restrictLinks(text: string, allowedHosts: string[]): { text: string; removed: string[] } {
  const allowed = allowedHosts.map(normaliseHost).filter((host) => host !== '');
  const removed: string[] = [];
  let out = text;
  // A removal can bring text together into a new link (`![a](x)(https://y)`); scan until stable.
  for (let pass = 0; pass < 4; pass++) {
    const before = removed.length;
    out = out.replace(LINKS, (match: string, ...args: unknown[]) => rewrite(match, groupsOf(args), allowed, removed));
    if (removed.length === before) break;
  }
  return { text: out, removed };
}

function groupsOf(args: unknown[]): Record<string, string | undefined> {
  const last = args[args.length - 1];
  return typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : {};
}

function rewrite(match: string, groups: Record<string, string | undefined>, allowed: string[], removed: string[]): string {
  if (match.startsWith('!')) {
    const url = unwrap(groups['imageUrl'] ?? '');
    removed.push(url === '' ? match : url);
    return marker('image', hostLabel(url));
  }
  if (groups['htmlImage'] !== undefined) {
    const url = /\bsrc\s*=\s*["']?([^"'\s>]+)/i.exec(groups['htmlImage'])?.[1] ?? '';
    removed.push(url === '' ? match : url);
    return marker('image', hostLabel(url));
  }
  if (groups['bareUrl'] !== undefined) {
    const [url, trailing] = splitTrailing(groups['bareUrl']);
    const verdict = judge(url.toLowerCase().startsWith('www.') ? `https://${url}` : url, allowed);
    if (verdict.keep) return match;
    removed.push(url);
    return `${marker('link', verdict.host)}${trailing}`;
  }
  const url = unwrap(groups['slackUrl'] ?? groups['linkUrl'] ?? groups['scriptUrl'] ?? '');
  const verdict = judge(url, allowed);
  if (verdict.keep) return match;
  removed.push(url);
  return marker('link', verdict.host);
}

// The host is shown as inline code: Slack and Discord turn `www.evil.example` or `evil.com` in plain
// text back into a clickable link, never inside a code span (which a backtick in the host must not end).
function marker(what: 'link' | 'image', host: string): string {
  return `[${what} removed: \`${host.replace(/[^A-Za-z0-9.:[\]_-]/g, '_')}\`]`;
}

/** Only http(s) to an allowed host is kept; relative markdown targets (`/docs`, `#top`) lead nowhere else. */
function judge(url: string, allowed: string[]): Verdict {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined && !url.startsWith('//') && !url.startsWith('\\\\')) return { keep: true };
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return { keep: false, host: scheme };
  const host = hostOf(scheme === undefined ? `https:${url}` : url);
  if (host === null) return { keep: false, host: 'invalid-url' };
  const ok = allowed.some((entry) => host === entry || host.endsWith(`.${entry}`));
  return ok ? { keep: true } : { keep: false, host };
}

// The WHATWG parser resolves the tricks a browser would follow (`https://github.com@evil.example`,
// percent-encoded or IDN hosts), so the host judged is the host a click reaches.
function hostOf(url: string): string | null {
  try {
    return normaliseHost(new URL(url).hostname);
  } catch {
    return null;
  }
}

function hostLabel(url: string): string {
  if (url === '') return 'unknown';
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return scheme;
  if (scheme === undefined && !url.startsWith('//')) return 'relative';
  return hostOf(scheme === undefined ? `https:${url}` : url) ?? 'invalid-url';
}

function normaliseHost(entry: string): string {
  let host = entry.trim().toLowerCase();
  if (host.includes('://')) host = hostOf(host) ?? '';
  return host.replace(/^\*?\.+/, '').replace(/\.+$/, '');
}

function unwrap(url: string): string {
  const trimmed = url.trim();
  return trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1) : trimmed;
}

/** Sentence punctuation after a bare URL is not part of it; a closing bracket is, when it closes one in the URL. */
function splitTrailing(url: string): [string, string] {
  let end = url.length;
  for (;;) {
    const last = url.charAt(end - 1);
    const body = url.slice(0, end);
    const unbalanced =
      (last === ')' && count(body, '(') < count(body, ')')) ||
      (last === ']' && count(body, '[') < count(body, ']')) ||
      (last === '}' && count(body, '{') < count(body, '}'));
    if (end > 0 && ('.,;:!?*_~\''.includes(last) || unbalanced)) end--;
    else break;
  }
  return [url.slice(0, end), url.slice(end)];
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}
