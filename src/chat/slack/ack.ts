// Socket Mode without losing events: Bolt acknowledges an Events API envelope before its listeners
// run, so a mention that then failed to store was gone. This receiver wrapper holds Bolt's ack until
// processing finished; when it threw (the database was down), the envelope stays unacknowledged and
// Slack redelivers it (retry_attempt), and ingestion dedupes the redelivery.
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';

export function ackAfterProcessing(inner: Receiver): Receiver {
  return {
    init(app: App) {
      const held = {
        processEvent: async (event: ReceiverEvent) => {
          let response: { body?: unknown } | undefined;
          await app.processEvent({
            ...event,
            ack: async (body?: unknown) => {
              response = { body };
            },
          });
          // Interactions and commands ack at once in their listeners, which leave the work running.
          await event.ack(response?.body);
        },
      };
      inner.init(held as unknown as App);
    },
    start: (...args: unknown[]) => inner.start(...args),
    stop: (...args: unknown[]) => inner.stop(...args),
  };
}
