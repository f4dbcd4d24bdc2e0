// Builds the Slack adapter from configuration: single workspace (SLACK_BOT_TOKEN) today; OAuth
// multi-workspace and Socket Mode plug in here. main.ts mounts `routes` on Tacit's HTTP server.
import type { Router } from 'express';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { SecretBox } from '../../db/secret-box.js';
import type { Redis } from 'ioredis';
import type { Logger } from '../../log.js';
import type { ChatAdapter } from '../port.js';
import { SlackAdapter } from './adapter.js';

export interface SlackDeps {
  config: Config;
  db: Db;
  secrets: SecretBox;
  redis: Redis;
  prefix: string;
  log: Logger;
}

export interface SlackWiring {
  adapter: ChatAdapter;
  routes: Router[];
}

export function createSlack(deps: SlackDeps): SlackWiring | undefined {
  const { slack } = deps.config;
  if (!slack.botToken || !slack.signingSecret) {
    if (slack.clientId) deps.log.warn('multi-workspace Slack (OAuth) is not built yet; set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for one workspace');
    return undefined;
  }
  const adapter = new SlackAdapter({ botToken: slack.botToken, signingSecret: slack.signingSecret, apiUrl: slack.apiUrl, log: deps.log });
  return { adapter, routes: [adapter.routes()] };
}
