// What the Slack app must be granted, derived from what the code calls: manifest.yml lists exactly
// these (test/chat/slack/manifest.test.ts checks both directions, and that every Web API method the
// adapter calls is listed here).

/** Each Web API method Tacit calls, with the bot scopes it needs (history in all three kinds of channel). */
export const WEB_API_METHODS: Record<string, readonly string[]> = {
  'auth.test': [],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  // Answers streamed into their thread (markdown text, then the footer and feedback buttons).
  'chat.startStream': ['chat:write'],
  'chat.appendStream': ['chat:write'],
  'chat.stopStream': ['chat:write'],
  // "is looking things up…" in the thread while an answer is prepared (chat:write since 2026-03-05).
  'assistant.threads.setStatus': ['chat:write'],
  'conversations.history': ['channels:history', 'groups:history', 'im:history'],
  'conversations.replies': ['channels:history', 'groups:history', 'im:history'],
  'conversations.open': ['im:write'],
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
  'users.info': ['users:read'],
  'usergroups.users.list': ['usergroups:read'],
  'views.publish': [],
  // The settings modal, opened from the slash command's trigger_id.
  'views.open': [],
  // Token exchange and rotation (client id and secret, no bot scope).
  'oauth.v2.access': [],
};

/** Bot events Tacit subscribes to, with the scope each needs. */
export const BOT_EVENTS: Record<string, string | null> = {
  app_mention: 'app_mentions:read',
  'message.channels': 'channels:history',
  'message.groups': 'groups:history',
  'message.im': 'im:history',
  app_home_opened: null,
  app_uninstalled: null,
  tokens_revoked: null,
};

export const SLASH_COMMAND = '/tacit';

/** Every bot scope, sorted: what /slack/install asks for and what manifest.yml declares. */
export const BOT_SCOPES: readonly string[] = [
  ...new Set([
    ...Object.values(WEB_API_METHODS).flat(),
    ...Object.values(BOT_EVENTS).filter((s): s is string => s !== null),
    'commands', // the /tacit slash command
  ]),
].sort();

/** Tacit's HTTP routes for Slack (events, interactivity and the slash command share one). */
export const SLACK_PATHS = { events: '/slack/events', install: '/slack/install', redirect: '/slack/oauth_redirect' } as const;
