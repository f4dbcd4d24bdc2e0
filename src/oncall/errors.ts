// The on-call area's errors a caller branches on. (A source's answer to an acknowledge or resolve
// is not an error here: it is a TargetState on the card, src/oncall/carriers.ts.)
export class OncallError extends Error {
  constructor(
    readonly code:
      // Who is on call (src/oncall/who.ts) and routing rules (src/oncall/routing.ts):
      | 'pagerduty_rejected' | 'pagerduty_unreachable' | 'pagerduty_rate_limited' | 'pagerduty_bad_answer' | 'route_invalid',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** PagerDuty refused the on-call lookup (4xx): the token or an escalation policy / schedule id is wrong. */
export class PagerdutyRejectedError extends OncallError {
  override readonly name = 'PagerdutyRejectedError';
  constructor(message: string) {
    super('pagerduty_rejected', message);
  }
}

/** PagerDuty could not be reached for the on-call lookup (network, 5xx, timeout): the roster falls back. */
export class PagerdutyUnreachableError extends OncallError {
  override readonly name = 'PagerdutyUnreachableError';
  constructor(message: string, cause?: unknown) {
    super('pagerduty_unreachable', message, { cause });
  }
}

export class PagerdutyRateLimitedError extends OncallError {
  override readonly name = 'PagerdutyRateLimitedError';
  constructor(readonly retryAfterMs: number) {
    super('pagerduty_rate_limited', `PagerDuty asked to wait ${Math.ceil(retryAfterMs / 1000)} s (429)`);
  }
}

/** A routing rule people wrote that Tacit cannot use (bad matcher, unknown channel): the message says what to fix. */
export class RouteParseError extends OncallError {
  override readonly name = 'RouteParseError';
  constructor(message: string) {
    super('route_invalid', message);
  }
}
