// Builds the Slack adapter from configuration: one workspace (SLACK_BOT_TOKEN) or many (OAuth install
// with SLACK_CLIENT_ID/SECRET/STATE_SECRET, installations in Postgres); HTTP events
// (SLACK_SIGNING_SECRET) or Socket Mode (SLACK_APP_TOKEN). main.ts mounts `routes` on Tacit's HTTP server.
import { WebClient } from '@slack/web-api';
import type { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { SecretBox } from '../../db/secret-box.js';
import type { Logger } from '../../log.js';
import type { ChatAdapter } from '../port.js';
import { SlackAdapter } from './adapter.js';
import { AliveMarks } from './alive.js';
import { SlackInstallations } from './installations.js';
import { oauthRoutes } from './oauth.js';
import { InstalledTokens } from './tokens.js';

export interface SlackDeps {
  config: Config;
  db: Db;
  secrets: SecretBox;
  redis: Redis;
  prefix: string;
  log: Logger;
  /** Token rotation: refresh when the bot token expires within this long (tests shorten time with `now`). */
  refreshBeforeMs?: number;
  now?: () => number;
}

export interface SlackWiring {
  adapter: ChatAdapter;
  routes: Router[];
}

export function createSlack(deps: SlackDeps): SlackWiring | undefined {
  const { slack } = deps.config;
  const { log, db } = deps;
  const inbound = { signingSecret: slack.signingSecret, appToken: slack.appToken };
  if (!slack.signingSecret && !slack.appToken) {
    if (slack.botToken || slack.clientId) log.warn('Slack is configured without SLACK_SIGNING_SECRET or SLACK_APP_TOKEN; it cannot receive anything and stays off');
    return undefined;
  }
  if (slack.clientId && slack.clientSecret && slack.stateSecret) {
    const store = new SlackInstallations(db, deps.secrets);
    const tokens = new InstalledTokens({
      store, client: new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }),
      clientId: slack.clientId, clientSecret: slack.clientSecret, redis: deps.redis, prefix: deps.prefix, log, refreshBeforeMs: deps.refreshBeforeMs, now: deps.now,
    });
    const adapter = new SlackAdapter({ tokens, ...inbound, apiUrl: slack.apiUrl, historyTier: slack.historyTier, log, db, now: deps.now, alive: new AliveMarks(deps.redis, deps.prefix) });
    const install = oauthRoutes({
      clientId: slack.clientId, clientSecret: slack.clientSecret, stateSecret: slack.stateSecret, store, apiUrl: slack.apiUrl, publicUrl: deps.config.publicUrl, log,
      installed: async (installation) => {
        const teamId = installation.team?.id;
        if (teamId) await adapter.installed(teamId, installation.team?.name ?? teamId);
        else log.warn('an org-wide Slack install was stored, but Tacit runs per team: install it into each workspace');
      },
    });
    return { adapter, routes: [install, ...adapter.routes()] };
  }
  if (slack.clientId) log.warn('multi-workspace Slack needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET together; falling back to SLACK_BOT_TOKEN');
  if (!slack.botToken) return undefined;
  const adapter = new SlackAdapter({ botToken: slack.botToken, ...inbound, apiUrl: slack.apiUrl, historyTier: slack.historyTier, log, db, alive: new AliveMarks(deps.redis, deps.prefix) });
  return { adapter, routes: adapter.routes() };
}
