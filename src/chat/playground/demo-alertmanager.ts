// The playground's DEMO Alertmanager: the v2 silences API (POST/GET /api/v2/silences, GET/DELETE
// /api/v2/silence/:id) with Alertmanager's shapes and states, held in this process's memory, so a
// newcomer can propose, approve and verify a silence with no Alertmanager of their own. It silences
// nothing real, and says so in every silence it lists and on its page.
import { randomUUID } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';

export const DEMO_ALERTMANAGER_PATH = '/playground/demo-alertmanager';
/** Appended to every silence's comment, so no list of them can be mistaken for a real Alertmanager's. */
export const DEMO_NOTE = '(demo Alertmanager in the Tacit playground: nothing is really silenced)';
/** Oldest silences go first beyond this; it is a demo, not a store. */
const MAX_SILENCES = 1_000;

// Alertmanager's postableSilence: matchers, startsAt, endsAt, createdBy and comment are required.
const postableSilence = z.object({
  id: z.string().optional(),
  matchers: z
    .array(z.object({ name: z.string().min(1), value: z.string(), isRegex: z.boolean(), isEqual: z.boolean().default(true) }))
    .min(1, 'at least one matcher is required'),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
  createdBy: z.string().min(1, 'createdBy is required'),
  comment: z.string().min(1, 'comment is required'),
});

interface StoredSilence {
  id: string;
  matchers: { name: string; value: string; isRegex: boolean; isEqual: boolean }[];
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  comment: string;
  updatedAt: Date;
}

export interface GettableSilence {
  id: string;
  status: { state: 'active' | 'pending' | 'expired' };
  updatedAt: string;
  matchers: StoredSilence['matchers'];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

export class DemoAlertmanager {
  private readonly silences = new Map<string, StoredSilence>();

  constructor(private readonly clock: Clock) {}

  list(): GettableSilence[] {
    return [...this.silences.values()].map((s) => this.view(s));
  }

  routes(): Router {
    const router = express.Router();
    router.get('/', (_req, res) => {
      res.type('html').send(demoPage(this.list()));
    });
    router.get('/api/v2/silences', (_req, res) => {
      res.json(this.list());
    });
    router.post('/api/v2/silences', express.json({ limit: '64kb' }), (req, res) => {
      const parsed = postableSilence.safeParse(req.body);
      if (!parsed.success) {
        res.status(400).json(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        return;
      }
      const p = parsed.data;
      const startsAt = new Date(p.startsAt);
      const endsAt = new Date(p.endsAt);
      // Alertmanager's own checks: an end after the start, and not already over.
      if (endsAt <= startsAt) return void res.status(400).json('Failed to create silence: end time must not be before start time');
      if (endsAt <= this.clock.now()) return void res.status(400).json('Failed to create silence: end time can\'t be in the past');
      if (p.id && !this.silences.has(p.id)) return void res.status(404).json(`silence ${p.id} not found`);
      const id = p.id ?? randomUUID();
      const comment = p.comment.includes(DEMO_NOTE) ? p.comment : `${p.comment} ${DEMO_NOTE}`;
      this.silences.set(id, { id, matchers: p.matchers, startsAt, endsAt, createdBy: p.createdBy, comment, updatedAt: this.clock.now() });
      this.bound();
      res.json({ silenceID: id });
    });
    router.get('/api/v2/silence/:id', (req, res) => {
      const s = this.silences.get(req.params.id);
      if (!s) return void res.status(404).json(`silence ${req.params.id} not found`);
      res.json(this.view(s));
    });
    router.delete('/api/v2/silence/:id', (req, res) => {
      const s = this.silences.get(req.params.id);
      if (!s) return void res.status(404).json(`silence ${req.params.id} not found`);
      const now = this.clock.now();
      if (s.endsAt <= now) return void res.status(500).json(`silence ${s.id} already expired`);
      s.endsAt = now;
      if (s.startsAt > now) s.startsAt = now;
      s.updatedAt = now;
      res.status(200).end();
    });
    return router;
  }

  private view(s: StoredSilence): GettableSilence {
    const now = this.clock.now();
    const state = s.endsAt <= now ? 'expired' : s.startsAt > now ? 'pending' : 'active';
    return {
      id: s.id, status: { state }, updatedAt: s.updatedAt.toISOString(), matchers: s.matchers,
      startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString(), createdBy: s.createdBy, comment: s.comment,
    };
  }

  private bound(): void {
    while (this.silences.size > MAX_SILENCES) {
      const oldest = this.silences.keys().next().value;
      if (oldest === undefined) return;
      this.silences.delete(oldest);
    }
  }
}

const operator = (m: { isRegex: boolean; isEqual: boolean }) => (m.isEqual ? (m.isRegex ? '=~' : '=') : m.isRegex ? '!~' : '!=');

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function demoPage(silences: GettableSilence[]): string {
  const rows = silences
    .map((s) => `<tr><td>${escapeHtml(s.status.state)}</td><td>${escapeHtml(s.matchers.map((m) => `${m.name}${operator(m)}${m.value}`).join(', '))}</td><td>${escapeHtml(s.endsAt)}</td><td>${escapeHtml(s.comment)}</td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo Alertmanager (Tacit playground)</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:1000px}table{border-collapse:collapse;width:100%;table-layout:fixed}td,th{border:1px solid #ddd;padding:6px;text-align:left;overflow-wrap:anywhere}.demo{background:#fff3bf;padding:8px 12px;border-radius:6px}</style></head>
<body><h1>Demo Alertmanager</h1><p class="demo">This is a <b>demo</b> built into the Tacit playground. It speaks Alertmanager's v2 silences API
so you can try approvals, but it silences nothing and forgets everything when Tacit restarts. Point the
<code>alertmanager</code> integration at your real Alertmanager to use it for real.</p>
<table><thead><tr><th>state</th><th>matchers</th><th>ends</th><th>comment</th></tr></thead><tbody>${rows || '<tr><td colspan="4">No silences yet.</td></tr>'}</tbody></table></body></html>`;
}
