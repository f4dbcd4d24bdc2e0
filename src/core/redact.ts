// Secret redaction for untrusted text: provider tokens, private keys, auth headers and passwords become `[redacted:<kind>]` before text reaches the model, the chat or the logs.

interface Rule {
  kind: string;
  pattern: RegExp;
  /** Builds the replacement from the match; `null` leaves the match as it was. */
  replace: (match: string, groups: string[]) => string | null;
}

const tag = (kind: string): string => `[redacted:${kind}]`;
const whole = (kind: string): Rule['replace'] => () => tag(kind);

// Names whose value is a secret in env files, DSNs, query strings and JSON: `DB_PASSWORD`, `pwd`,
// `SLACK_SIGNING_SECRET`, `GITHUB_TOKEN`, `ANTHROPIC_API_KEY`, `aws_secret_access_key`, `TACIT_SECRET_KEY`.
// The name must end in the secret word, so `max_tokens=1024` or `token_expiry=60` are left alone.
const SECRET_NAME =
  /(?:(?:^|[_.-])(?:pass|pwd)|password|passwd|secret|token|api[_-]?key|secret[_-]?key|access[_-]?key|private[_-]?key|auth[_-]?key|signing[_-]?key|encryption[_-]?key|credentials?)$/i;
const PASSWORD_NAME = /(?:pass|pwd)/i;
const DATABASE_SCHEMES = /^(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|cockroachdb)$/i;

function kindForName(name: string): string {
  if (/aws_?secret/i.test(name) || /^secret_?access_?key$/i.test(name)) return 'aws-secret-key';
  return PASSWORD_NAME.test(name) ? 'password' : 'secret';
}

function alreadyRedacted(value: string): boolean {
  return /^["']?\[redacted/.test(value);
}

// Words that follow "password is" in ordinary prose; a value like these is not a secret.
const PROSE_VALUES = new Set([
  'a', 'an', 'the', 'in', 'on', 'at', 'not', 'no', 'set', 'unset', 'empty', 'missing', 'wrong', 'invalid', 'valid', 'correct',
  'incorrect', 'required', 'needed', 'expired', 'revoked', 'rotated', 'changed', 'stored', 'saved', 'reset', 'leaked', 'known',
  'unknown', 'same', 'different', 'fine', 'ok', 'okay', 'good', 'bad', 'weak', 'strong', 'long', 'short', 'too', 'very', 'also',
  'here', 'there', 'available', 'unavailable', 'broken', 'gone', 'new', 'old', 'none', 'null', 'undefined', 'true', 'false',
  'yes', 'being', 'been', 'still', 'now', 'only', 'what', 'which', 'where', 'how', 'why', 'who', 'it', 'this', 'that', 'my',
  'your', 'our', 'their', 'his', 'her', 'its', 'from', 'with', 'for', 'of', 'to', 'by', 'and', 'or', 'but', 'if', 'when',
  'see', 'ask', 'check', 'use', 'via', 'under', 'kept', 'shared', 'secret', 'public', 'private', 'hidden', 'encrypted', 'redacted', 'sensitive', 'safe', 'unsafe', 'fixed',
]);

function proseWord(value: string): boolean {
  const v = value.toLowerCase();
  return PROSE_VALUES.has(v) || /^[a-z]+(?:ed|ing|ly|able|ible)$/.test(v) || /^<[^>]*>$|^\.{3}$|^…$/.test(v);
}

// Order matters: whole blocks and URLs with credentials first, then provider tokens, then the
// generic `NAME=value` pairs, which skip values an earlier rule already replaced.
const RULES: Rule[] = [
  {
    kind: 'private-key',
    // An unterminated block (a truncated paste) is redacted to the end of the text.
    pattern: /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END \1PRIVATE KEY\2-----|$)/g,
    replace: whole('private-key'),
  },
  {
    kind: 'slack-webhook',
    pattern: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]+/g,
    replace: whole('slack-webhook'),
  },
  {
    kind: 'discord-webhook',
    pattern: /https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/(?:v\d+\/)?webhooks\/\d+\/[A-Za-z0-9_-]+/g,
    replace: whole('discord-webhook'),
  },
  {
    kind: 'url-password',
    // scheme://user:password@host — the user and host stay readable; the password may contain '@'.
    pattern: /\b([a-z][a-z0-9+.-]*):\/\/([^\s:/?#@[\]]*):([^\s/?#]+)@(?=[^\s@/?#]*(?:[/?#\s]|$))/gi,
    replace: (_m, [scheme = '', user = '', password = '']) => {
      if (alreadyRedacted(password)) return null;
      const kind = DATABASE_SCHEMES.test(scheme) ? 'connection-string-password' : 'url-password';
      return `${scheme}://${user}:${tag(kind)}@`;
    },
  },
  {
    kind: 'authorization',
    pattern: /\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(bearer|basic|token|bot|digest)\s+([^\s"',;]*[^\s"',;.])/gi,
    replace: (_m, [prefix = '', scheme = '', value = '']) =>
      alreadyRedacted(value) ? null : `${prefix}${scheme} ${tag(scheme.toLowerCase() === 'basic' ? 'basic-auth' : 'bearer-token')}`,
  },
  {
    kind: 'bearer-token',
    // A bare "Bearer <token>": the token must look like one (long, with a digit) so "Bearer of bad news" stays.
    pattern: /\b(bearer)\s+((?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{16,}=*)/gi,
    replace: (_m, [word = '']) => `${word} ${tag('bearer-token')}`,
  },
  { kind: 'anthropic-key', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g, replace: whole('anthropic-key') },
  {
    kind: 'openai-key',
    pattern: /\bsk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{32,}/g,
    replace: whole('openai-key'),
  },
  { kind: 'stripe-key', pattern: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/g, replace: whole('stripe-key') },
  { kind: 'stripe-webhook-secret', pattern: /\bwhsec_[A-Za-z0-9+/=]{24,}/g, replace: whole('stripe-webhook-secret') },
  { kind: 'github-token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g, replace: whole('github-token') },
  { kind: 'gitlab-token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}/g, replace: whole('gitlab-token') },
  { kind: 'slack-token', pattern: /\b(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{10,}/g, replace: whole('slack-token') },
  {
    kind: 'aws-access-key-id',
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
    replace: whole('aws-access-key-id'),
  },
  { kind: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{30,}/g, replace: whole('google-api-key') },
  { kind: 'npm-token', pattern: /\bnpm_[A-Za-z0-9]{30,}\b/g, replace: whole('npm-token') },
  { kind: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, replace: whole('jwt') },
  {
    kind: 'secret-assignment',
    // NAME=value, NAME = value, NAME: value (compound names only), "name": "value".
    pattern:
      /(?<![A-Za-z0-9_.-])(["']?)([A-Za-z0-9_.-]*[A-Za-z0-9])\1(\s*=\s*|(?<=["'])\s*:\s*|(?=\s*:\s)(?<=[_.-][A-Za-z0-9]*)\s*:\s+)("[^"\n]*"|'[^'\n]*'|[^\s;&,"'<>]+)/g,
    replace: (_m, [quote = '', name = '', separator = '', value = '']) => {
      if (!SECRET_NAME.test(name) || alreadyRedacted(value) || /^["']{2}$/.test(value)) return null;
      const quoted = /^["']/.test(value) ? value.charAt(0) : '';
      return `${quote}${name}${quote}${separator}${quoted}${tag(kindForName(name))}${quoted}`;
    },
  },
  {
    kind: 'secret-in-prose',
    // "the deploy password is hunter2", "password: hunter2", "the token for ci was abc123": a secret
    // word, then is/was/are/:/=, then a value (quoted values whole). Ordinary prose ("the password is
    // required", "the token is in the vault") is left alone: the value must not be a common word.
    pattern:
      /\b(pass(?:word|wd|phrase|code)|pwd|secret|token|api[ _-]?key|access[ _-]?key|private[ _-]?key)((?:\s+(?:for|of|on|to)\s+[\w.@/-]{1,40})?\s*(?:\b(?:is|was|are|were)\b|:|=)\s*(?:(?:now|still|just|currently)\s+)?)("[^"\n]{1,200}"|'[^'\n]{1,200}'|`[^`\n]{1,200}`|[^\s"'`,;]*[^\s"'`,;.!?)\]])/gi,
    replace: (_m, [word = '', middle = '', value = '']) => {
      const quoted = /^["'`]/.test(value) ? value.charAt(0) : '';
      const bare = quoted ? value.slice(1, -1) : value;
      if (bare.length < 3 || alreadyRedacted(bare) || (!quoted && proseWord(bare))) return null;
      return `${word}${middle}${quoted}${tag(kindForName(word.replace(/\s+/g, '_')))}${quoted}`;
    },
  },
];

/** Replaces every secret found in `text`; `found` lists the kinds found, each once, in rule order. */
export function redactSecrets(text: string): { text: string; found: string[] } {
  const found: string[] = [];
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
      const groups = rest.filter((g): g is string => typeof g === 'string' || g === undefined).map((g) => g ?? '');
      const replacement = rule.replace(match, groups);
      if (replacement === null) return match;
      const kind = /\[redacted:([a-z-]+)\]/.exec(replacement)?.[1] ?? rule.kind;
      if (!found.includes(kind)) found.push(kind);
      return replacement;
    });
  }
  return { text: out, found };
}

/** Redacts every string in a JSON-like value, and whole values under secret-named keys (`{ password: 'x' }`). */
export function redactDeep(value: unknown): unknown {
  return walk(value, new WeakSet<object>());
}

function walk(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactSecrets(value).text;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((item) => walk(item, seen));
  } else {
    const fields: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      fields[key] = SECRET_NAME.test(key) && typeof item === 'string' && item !== '' ? tag(kindForName(key)) : walk(item, seen);
    }
    out = fields;
  }
  // Only the current path counts as a cycle; the same object reached twice elsewhere is walked twice.
  seen.delete(value);
  return out;
}
