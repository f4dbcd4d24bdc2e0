// Time as a dependency, so quiet hours, expiry and cooldowns can be tested with a manual clock.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
