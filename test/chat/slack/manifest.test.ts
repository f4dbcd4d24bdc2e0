// manifest.yml must match the code exactly: the scopes the Web API calls need, the events the adapter
// handles, interactivity, the slash command, App Home, Socket Mode off by default and the redirect URL.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOT_EVENTS, BOT_SCOPES, SLACK_PATHS, SLASH_COMMAND, WEB_API_METHODS } from '../../../src/chat/slack/scopes.js';

type Yaml = string | boolean | number | null | Yaml[] | { [key: string]: Yaml };

/** The YAML subset manifest.yml uses: nested maps, lists of scalars or maps, quoted scalars, `>-` blocks, comments. */
function parseYaml(text: string): Yaml {
  const lines = text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .map((l) => ({ indent: l.length - l.trimStart().length, text: l.trim() }));
  let i = 0;
  const scalar = (raw: string): Yaml => {
    if (/^".*"$|^'.*'$/.test(raw)) return raw.slice(1, -1);
    if (raw === 'true' || raw === 'false') return raw === 'true';
    return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  };
  const block = (indent: number): Yaml => (lines[i]?.text.startsWith('- ') ? list(indent) : map(indent));
  const map = (indent: number): Yaml => {
    const out: Record<string, Yaml> = {};
    for (let line = lines[i]; line && line.indent === indent && !line.text.startsWith('- '); line = lines[i]) {
      const m = /^([\w.-]+):(?:\s+(.*))?$/.exec(line.text);
      if (!m?.[1]) throw new Error(`manifest.yml: cannot read "${line.text}"`);
      i++;
      const rest = m[2] ?? '';
      if (rest === '>-' || rest === '>' || rest === '|') {
        const folded: string[] = [];
        while ((lines[i]?.indent ?? 0) > indent) folded.push(lines[i++]?.text ?? '');
        out[m[1]] = folded.join(rest === '|' ? '\n' : ' ');
      } else if (rest === '') {
        const next = lines[i];
        out[m[1]] = next && next.indent > indent ? block(next.indent) : null;
      } else out[m[1]] = scalar(rest);
    }
    return out;
  };
  const list = (indent: number): Yaml => {
    const out: Yaml[] = [];
    for (let line = lines[i]; line && line.indent === indent && line.text.startsWith('- '); line = lines[i]) {
      const item = line.text.slice(2);
      if (/^[\w.-]+:(\s|$)/.test(item)) {
        lines[i] = { indent: indent + 2, text: item };
        out.push(map(indent + 2));
      } else {
        out.push(scalar(item));
        i++;
      }
    }
    return out;
  };
  return block(0);
}

const at = (y: Yaml, ...path: string[]): Yaml => path.reduce<Yaml>((v, k) => (v && typeof v === 'object' && !Array.isArray(v) ? (v[k] ?? null) : null), y);
const manifest = parseYaml(readFileSync(new URL('../../../manifest.yml', import.meta.url), 'utf8'));
const slackDir = new URL('../../../src/chat/slack/', import.meta.url).pathname;
const source = readdirSync(slackDir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(slackDir, f), 'utf8')).join('\n');

describe('manifest.yml agrees with the code', () => {
  it('reads the YAML subset it is written in', () => {
    expect(parseYaml('a:\n  b: "x: y"\n  c:\n    - 1\n    - d: true\n      e: >-\n        two\n        lines\n')).toEqual({ a: { b: 'x: y', c: [1, { d: true, e: 'two lines' }] } });
  });

  it('asks for exactly the bot scopes the code needs', () => {
    expect([...(at(manifest, 'oauth_config', 'scopes', 'bot') as string[])].sort()).toEqual(BOT_SCOPES);
  });

  it('lists every Web API method the adapter calls, and only those', () => {
    const called = new Set([...source.matchAll(/client\.([a-z]+(?:\.[a-zA-Z0-9]+)+)\(/g)].map((m) => m[1]));
    expect([...called].sort()).toEqual(Object.keys(WEB_API_METHODS).sort());
  });

  it('subscribes to exactly the bot events the adapter handles', () => {
    expect([...(at(manifest, 'settings', 'event_subscriptions', 'bot_events') as string[])].sort()).toEqual(Object.keys(BOT_EVENTS).sort());
    for (const event of Object.keys(BOT_EVENTS)) expect(source).toContain(`app.event('${event.startsWith('message.') ? 'message' : event}'`);
  });

  it('sends events, interactivity and the slash command to /slack/events, and OAuth back to /slack/oauth_redirect', () => {
    const endsWith = (path: string) => expect.stringMatching(new RegExp(`^https://[^/]+${path}$`));
    expect(at(manifest, 'settings', 'event_subscriptions', 'request_url')).toEqual(endsWith(SLACK_PATHS.events));
    expect(at(manifest, 'settings', 'interactivity')).toEqual({ is_enabled: true, request_url: endsWith(SLACK_PATHS.events) });
    expect(at(manifest, 'features', 'slash_commands')).toEqual([expect.objectContaining({ command: SLASH_COMMAND, url: endsWith(SLACK_PATHS.events) })]);
    expect(source).toContain('app.command(SLASH_COMMAND');
    expect(source).toContain('app.action(');
    expect(at(manifest, 'oauth_config', 'redirect_urls')).toEqual([endsWith(SLACK_PATHS.redirect)]);
  });

  it('has the App Home tab on (Tacit publishes it) and Socket Mode and token rotation off by default', () => {
    expect(at(manifest, 'features', 'app_home', 'home_tab_enabled')).toBe(true);
    expect(source).toContain('views.publish(');
    expect(at(manifest, 'settings', 'socket_mode_enabled')).toBe(false);
    expect(at(manifest, 'settings', 'token_rotation_enabled')).toBe(false);
  });
});
