// Configuration errors met while calling the model: a rejected key, a retired or unknown model, a
// request the API refuses. Each is logged once (not on every tick) and kept until that model (or, for
// the key, any call) works again, so the dashboard and /readyz can say what to fix.
import Anthropic from '@anthropic-ai/sdk';
import type { Logger } from '../../log.js';

/** The key's problems are the same for every model. */
const KEY = '*';

export class ConfigurationErrors {
  private readonly bySlot = new Map<string, string>();

  constructor(private readonly log: Logger) {}

  /** A 400, 401, 403 or 404 says the setup is wrong: retrying will not help. Outages and aborts are not. */
  static isConfiguration(err: unknown): err is InstanceType<typeof Anthropic.APIError> {
    return err instanceof Anthropic.APIError && [400, 401, 403, 404].includes(err.status ?? 0);
  }

  /** Records `err` when it is a configuration error; logs it the first time it is seen. */
  record(model: string, err: unknown): void {
    if (!ConfigurationErrors.isConfiguration(err)) return;
    const keyProblem = err.status === 401 || err.status === 403;
    const slot = keyProblem ? KEY : model;
    const what = `${keyProblem ? 'the Anthropic API key was refused' : `${model} was refused`}: ${err.status} ${apiMessage(err)}`;
    const fix = keyProblem ? 'set a valid ANTHROPIC_API_KEY' : err.status === 404 ? 'set TACIT_MODEL / TACIT_TRIAGE_MODEL to a current model' : 'this request breaks a rule of the model (a Tacit bug: please report it)';
    const message = `${what} — ${fix}`;
    if (this.bySlot.get(slot) === message) return;
    this.bySlot.set(slot, message);
    this.log.error({ model, status: err.status, requestId: err.requestID }, `Claude configuration error: ${message}; decisions fall back to the rules brain until it is fixed`);
  }

  /** The model answered: its problems (and the key's) are gone. */
  clear(model: string): void {
    for (const slot of [model, KEY]) {
      if (this.bySlot.delete(slot)) this.log.info({ model }, 'Claude configuration error resolved');
    }
  }

  current(): string | null {
    return this.bySlot.size === 0 ? null : [...this.bySlot.values()].join('; ');
  }
}

/** The API's own words, from the error body (`{"type":"error","error":{"type","message"}}`). */
export function apiMessage(err: InstanceType<typeof Anthropic.APIError>): string {
  const body: unknown = err.error;
  const inner = typeof body === 'object' && body !== null && 'error' in body ? (body as { error: unknown }).error : undefined;
  if (typeof inner === 'object' && inner !== null && 'message' in inner) {
    const type = 'type' in inner ? `${String((inner as { type: unknown }).type)}: ` : '';
    return `${type}${String((inner as { message: unknown }).message)}`.slice(0, 300);
  }
  return err.message.slice(0, 300);
}
