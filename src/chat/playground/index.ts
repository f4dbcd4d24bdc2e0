// The playground: a local channel in the browser for trying Tacit without Slack or Discord.
import { PlaygroundAdapter, type PlaygroundOptions } from './adapter.js';

export { PlaygroundAdapter } from './adapter.js';
export { PLAYGROUND_CHANNEL, PLAYGROUND_WORKSPACE_ID, playgroundUsers } from './types.js';

export function createPlaygroundAdapter(opts: PlaygroundOptions): PlaygroundAdapter {
  return new PlaygroundAdapter(opts);
}
