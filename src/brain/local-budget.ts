// A token budget held in this process: for one-off runs (the decisions benchmark) and tests. Production
// counts in Redis (heartbeat/token-budget.ts) so that every process shares one limit per workspace and day.
import type { TokenBudget, TokenReservation } from './port.js';

export class LocalTokenBudget implements TokenBudget {
  /** Tokens counted (reserved or used) by workspace and day. */
  private readonly used = new Map<string, number>();

  /** `perDay: false` makes the limit one total for the whole run, whatever the workspace or day. */
  constructor(
    private readonly limit: number,
    private readonly perDay = true,
  ) {}

  private key(workspaceId: string, day: string): string {
    return this.perDay ? `${workspaceId}:${day}` : '*';
  }

  /** Every token counted so far, in every workspace and day. */
  get total(): number {
    return [...this.used.values()].reduce((a, b) => a + b, 0);
  }

  async remaining(workspaceId: string, now: Date): Promise<number> {
    return this.limit - (this.used.get(this.key(workspaceId, now.toISOString().slice(0, 10))) ?? 0);
  }

  async reserve(workspaceId: string, tokens: number, now: Date): Promise<TokenReservation | null> {
    const day = now.toISOString().slice(0, 10);
    const key = this.key(workspaceId, day);
    const held = Math.max(0, Math.ceil(tokens));
    const used = this.used.get(key) ?? 0;
    if (used + held > this.limit) return null;
    this.used.set(key, used + held);
    return { workspaceId, day, tokens: held };
  }

  async settle(reservation: TokenReservation, usedTokens: number): Promise<void> {
    const key = this.key(reservation.workspaceId, reservation.day);
    this.used.set(key, Math.max(0, (this.used.get(key) ?? 0) + Math.ceil(usedTokens) - reservation.tokens));
  }
}
