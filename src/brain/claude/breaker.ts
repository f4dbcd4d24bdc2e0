// A circuit breaker for the model API: after repeated failures, stop calling for a while and let
// the rules brain answer, instead of making every tick wait on a failing API.
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;

  constructor(
    private readonly threshold = 3,
    private readonly coolDownMs = 60_000,
  ) {}

  /** True while calls should not be attempted. */
  isOpen(now = Date.now()): boolean {
    return now < this.openUntil;
  }

  success(): void {
    this.failures = 0;
    this.openUntil = 0;
  }

  failure(now = Date.now()): void {
    this.failures += 1;
    if (this.failures >= this.threshold) this.openUntil = now + this.coolDownMs;
  }
}
