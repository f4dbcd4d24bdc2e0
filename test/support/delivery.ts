// Drives one outbox row through delivery directly, waiting out the adapter's per-channel pacing as the
// outbox's queue would.
import { ChatRateLimitedError } from '../../src/chat/errors.js';
import type { Delivery } from '../../src/delivery/worker.js';

export async function deliverPaced(delivery: Delivery, outboxId: string): Promise<string> {
  for (;;) {
    try {
      return await delivery.deliver(outboxId);
    } catch (err) {
      if (!(err instanceof ChatRateLimitedError)) throw err;
      await new Promise((r) => setTimeout(r, err.retryAfterMs));
    }
  }
}
