// Multi-workspace install: GET /slack/install sends the person to Slack's consent page, Slack sends them
// back to /slack/oauth_redirect, and Bolt's InstallProvider (inside an ExpressReceiver that serves only
// these two routes) checks the state, exchanges the code with oauth.v2.access at SLACK_API_URL and
// stores the installation in Postgres. The events endpoint is the adapter's own receiver.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExpressReceiver, type Installation } from '@slack/bolt';
import type { Router } from 'express';
import type { Logger } from '../../log.js';
import type { SlackInstallations } from './installations.js';
import { boltLogger } from './logger.js';
import { BOT_SCOPES, SLACK_PATHS } from './scopes.js';

export interface OAuthOptions {
  clientId: string;
  clientSecret: string;
  stateSecret: string;
  store: SlackInstallations;
  apiUrl?: string;
  /** Tacit's public URL; when set, the redirect URL is sent along (it must be in the app's config). */
  publicUrl?: string;
  log: Logger;
  /** Called once the installation is stored. */
  installed: (installation: Installation) => Promise<void>;
}

/** Slack's consent page lives next to its Web API: https://slack.com/oauth/v2/authorize. */
export function authorizationUrl(apiUrl = 'https://slack.com/api/'): string {
  return new URL('/oauth/v2/authorize', apiUrl).toString();
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res: ServerResponse, status: number, title: string, text: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`);
}

export function oauthRoutes(opts: OAuthOptions): Router {
  const receiver = new ExpressReceiver({
    // No events endpoint here, so nothing to verify: the OAuth state (signed, cookie-bound) protects these routes.
    signatureVerification: false,
    signingSecret: 'unused',
    endpoints: {},
    logger: boltLogger(opts.log),
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    stateSecret: opts.stateSecret,
    installationStore: opts.store,
    scopes: [...BOT_SCOPES],
    ...(opts.publicUrl ? { redirectUri: new URL(SLACK_PATHS.redirect, opts.publicUrl).toString() } : {}),
    installerOptions: {
      installPath: SLACK_PATHS.install,
      redirectUriPath: SLACK_PATHS.redirect,
      directInstall: true,
      authorizationUrl: authorizationUrl(opts.apiUrl),
      clientOptions: { slackApiUrl: opts.apiUrl, retryConfig: { retries: 0 } },
      callbackOptions: {
        successAsync: async (installation: Installation, _options: unknown, _req: IncomingMessage, res: ServerResponse) => {
          await opts.installed(installation);
          const where = installation.team?.name ?? installation.enterprise?.name ?? 'your workspace';
          page(res, 200, 'Tacit is installed', `Tacit is installed in ${where}. Invite it to a channel with /invite @tacit, then try /tacit status.`);
        },
        failureAsync: async (error: { code?: string; message: string }, _options: unknown, _req: IncomingMessage, res: ServerResponse) => {
          opts.log.warn({ code: error.code, err: error.message }, 'slack install failed');
          page(res, 400, 'Tacit was not installed', `The installation did not complete (${error.code ?? 'error'}). Start again from ${SLACK_PATHS.install}.`);
        },
      },
    },
  });
  return receiver.router as unknown as Router;
}
