/** Time source passed to every domain module, so tests can move time instead of waiting. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can set and advance. */
export class ManualClock implements Clock {
  #current: number;

  constructor(start: Date | string = new Date()) {
    this.#current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#current);
  }

  set(to: Date | string): void {
    this.#current = new Date(to).getTime();
  }

  advance(ms: number): void {
    this.#current += ms;
  }
}
