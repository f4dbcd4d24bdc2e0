// Which bot token a Web API call for a team uses. One workspace: SLACK_BOT_TOKEN. Many: the team's
// installation, refreshed before it expires (token rotation: 12 h tokens, single-use refresh tokens).
// One refresh at a time across processes: a Redis lock, and the store is re-read after taking it, so
// a second process uses the freshly stored token instead of spending the refresh token again.
import { randomUUID } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Logger } from '../../log.js';
import { ChatRejectedError, ChatUnreachableError } from '../errors.js';
import { callSlack } from './calls.js';
import type { SlackInstallation, SlackInstallations } from './installations.js';

export interface BotAuth {
  teamId: string;
  token: string;
  botUserId: string;
  botId?: string;
  enterpriseId?: string;
}

export interface TokenSource {
  auth(teamId: string): Promise<BotAuth>;
  /** Teams Tacit has a token for. */
  teams(): Promise<string[]>;
  /** Drops what is cached for the team, after Slack refused its token. */
  forget(teamId: string): void;
  /** Deletes the team's stored tokens (uninstall, revocation); says whether there were any. */
  remove(teamId: string): Promise<boolean>;
}

const notInstalled = (teamId: string) =>
  new ChatRejectedError('not_installed', `Tacit is not installed in Slack team ${teamId}; install it through /slack/install`);

/** Single workspace: one static bot token, its team learned from auth.test. */
export class StaticTokens implements TokenSource {
  private identity: Promise<BotAuth> | undefined;

  constructor(
    private readonly client: WebClient,
    private readonly token: string,
  ) {}

  auth(teamId?: string): Promise<BotAuth> {
    this.identity ??= callSlack(() => this.client.auth.test({ token: this.token })).then(
      (res) => ({ teamId: String(res.team_id), token: this.token, botUserId: String(res.user_id), botId: res.bot_id }),
      (err: unknown) => {
        this.identity = undefined;
        throw err;
      },
    );
    return this.identity.then((auth) => {
      if (teamId !== undefined && teamId !== auth.teamId) throw notInstalled(teamId);
      return auth;
    });
  }

  async teams(): Promise<string[]> {
    return [(await this.auth()).teamId];
  }

  forget(): void {
    // The one token cannot change without a restart.
  }

  async remove(): Promise<boolean> {
    return false; // SLACK_BOT_TOKEN lives in the environment, not in Tacit's store
  }
}

export interface RotationOptions {
  store: SlackInstallations;
  /** A WebClient without a token, pointed at SLACK_API_URL, for oauth.v2.access. */
  client: WebClient;
  clientId: string;
  clientSecret: string;
  redis: Redis;
  prefix: string;
  log: Logger;
  /** Refresh when the token expires within this long (default 30 min). */
  refreshBeforeMs?: number;
  /** How long a process waits for another one's refresh before giving up for now (default 15 s). */
  lockWaitMs?: number;
  now?: () => number;
}

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Many workspaces: tokens from the installation store, rotated before they expire. */
export class InstalledTokens implements TokenSource {
  private readonly cache = new Map<string, { auth: BotAuth; expiresAt?: number }>();
  private readonly loading = new Map<string, Promise<BotAuth>>();

  constructor(private readonly opts: RotationOptions) {}

  auth(teamId: string): Promise<BotAuth> {
    const cached = this.cache.get(teamId);
    if (cached && !this.expiring(cached.expiresAt)) return Promise.resolve(cached.auth);
    let pending = this.loading.get(teamId);
    if (!pending) {
      pending = this.load(teamId).finally(() => this.loading.delete(teamId));
      this.loading.set(teamId, pending);
    }
    return pending;
  }

  teams(): Promise<string[]> {
    return this.opts.store.teams();
  }

  forget(teamId: string): void {
    this.cache.delete(teamId);
  }

  async remove(teamId: string): Promise<boolean> {
    this.cache.delete(teamId);
    return this.opts.store.remove(teamId);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** `expiresAt` in seconds, as Bolt stores it. */
  private expiring(expiresAt: number | undefined): boolean {
    return expiresAt !== undefined && expiresAt * 1000 - this.now() < (this.opts.refreshBeforeMs ?? 30 * 60_000);
  }

  private async load(teamId: string): Promise<BotAuth> {
    let installation = await this.opts.store.find(teamId);
    if (installation?.bot?.refreshToken && this.expiring(installation.bot.expiresAt)) installation = await this.refresh(teamId);
    const bot = installation?.bot;
    if (!bot) throw notInstalled(teamId);
    const auth: BotAuth = { teamId, token: bot.token, botUserId: bot.userId, botId: bot.id, enterpriseId: installation?.enterprise?.id };
    this.cache.set(teamId, { auth, expiresAt: bot.expiresAt });
    return auth;
  }

  private async refresh(teamId: string): Promise<SlackInstallation | undefined> {
    const { redis, prefix, store } = this.opts;
    const key = `${prefix}:slack:token-refresh:${teamId}`;
    const deadline = Date.now() + (this.opts.lockWaitMs ?? 15_000);
    for (;;) {
      const token = randomUUID();
      if ((await redis.set(key, token, 'PX', 30_000, 'NX')) === 'OK') {
        try {
          // Another process may have refreshed between our read and the lock: its token is the one to use.
          const current = await store.find(teamId);
          if (!current?.bot?.refreshToken || !this.expiring(current.bot.expiresAt)) return current;
          return await this.exchange(current);
        } finally {
          await redis.eval(RELEASE_LOCK, 1, key, token).catch(() => undefined);
        }
      }
      await new Promise((r) => setTimeout(r, 50));
      const current = await store.find(teamId);
      if (!current?.bot || !this.expiring(current.bot.expiresAt)) return current;
      if (Date.now() > deadline) throw new ChatUnreachableError('token_refresh_busy', `another process is refreshing the Slack token of ${teamId}`);
    }
  }

  private async exchange(installation: SlackInstallation): Promise<SlackInstallation> {
    const bot = installation.bot;
    if (!bot?.refreshToken) return installation;
    const res = await callSlack(() =>
      this.opts.client.oauth.v2.access({ client_id: this.opts.clientId, client_secret: this.opts.clientSecret, grant_type: 'refresh_token', refresh_token: bot.refreshToken }),
    );
    if (!res.access_token || !res.refresh_token || res.expires_in === undefined) {
      throw new ChatUnreachableError('bad_refresh', 'oauth.v2.access answered a refresh without a new token');
    }
    const updated: SlackInstallation = {
      ...installation,
      bot: { ...bot, token: res.access_token, refreshToken: res.refresh_token, expiresAt: Math.floor(this.now() / 1000) + res.expires_in },
    };
    await this.opts.store.storeInstallation(updated);
    this.opts.log.info({ workspaceId: `slack:${installation.team?.id ?? ''}` }, 'slack bot token refreshed');
    return updated;
  }
}
