// The architecture's import boundaries, enforced by the lint configuration: platform SDKs, the queue
// library and database drivers stay in the folders that own them; only config.ts reads the environment.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();
const boundaryRules = new Set(['no-restricted-imports', 'no-restricted-properties']);

async function violations(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId && boundaryRules.has(m.ruleId)).map((m) => m.message);
}

describe('import boundaries', () => {
  it('holds across the whole source tree', async () => {
    const results = await eslint.lintFiles(['src/**/*.ts']);
    const broken = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId && boundaryRules.has(m.ruleId)).map((m) => `${r.filePath}:${m.line} ${m.message}`),
    );
    expect(broken).toEqual([]);
  });

  it.each([
    ["import { WebClient } from '@slack/web-api';", 'src/heartbeat/tick.ts', 'only src/chat/slack/ may import @slack/*'],
    ["import { Client } from 'discord.js';", 'src/core/gate.ts', 'only src/chat/discord/ may import discord.js'],
    ["import Anthropic from '@anthropic-ai/sdk';", 'src/actions/run.ts', 'only src/brain/ may import @anthropic-ai/sdk'],
    ["import { Queue } from 'bullmq';", 'src/http/server.ts', 'only src/heartbeat/'],
    ["import pg from 'pg';", 'src/sources/intake.ts', 'only src/db/ may import pg'],
    ["import { Histogram } from 'prom-client';", 'src/brain/claude/brain.ts', 'only src/http/metrics.ts may import prom-client'],
  ])('rejects %s in %s', async (code, file, message) => {
    expect((await violations(code, file)).join('\n')).toContain(message);
  });

  it('allows each library in its owning folder', async () => {
    expect(await violations("import { WebClient } from '@slack/web-api';", 'src/chat/slack/adapter.ts')).toEqual([]);
    expect(await violations("import pg from 'pg';", 'src/db/client.ts')).toEqual([]);
    expect(await violations("import { Queue } from 'bullmq';", 'src/delivery/worker.ts')).toEqual([]);
    expect(await violations("import { Registry } from 'prom-client';", 'src/http/metrics.ts')).toEqual([]);
  });

  it('rejects reading process.env outside config.ts', async () => {
    expect((await violations('export const port = process.env.PORT;', 'src/http/server.ts')).join('\n')).toContain(
      'only src/config.ts reads the environment',
    );
    expect(await violations('export const port = process.env.PORT;', 'src/config.ts')).toEqual([]);
  });
});
