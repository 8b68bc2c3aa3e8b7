import type { PDU } from 'smpp';
import type { SmsCarriers, SmsTuning } from '../config/sms-settings.js';
import type { Logger } from '../telemetry/logger.js';
import { SmppLink } from './smpp-link.js';

/**
 * Every carrier link of this instance: one SmppLink per configured carrier of each enabled
 * geography, created on first use. The `smpp` package is imported when the first link connects.
 */
export class SmppLinks {
  readonly #links = new Map<string, SmppLink>();
  #onDeliver: (link: SmppLink, pdu: PDU) => Promise<number> = async () => 0x64;

  constructor(
    private readonly deps: {
      carriers: SmsCarriers;
      enabledGeographies: readonly string[];
      tuning: SmsTuning;
      logger: Logger;
    },
  ) {}

  /** Who handles what carriers deliver (receipts, inbound messages). */
  onDeliver(handler: (link: SmppLink, pdu: PDU) => Promise<number>): void {
    this.#onDeliver = handler;
  }

  /** The carriers configured for a geography (names). */
  carriersOf(geographyKey: string): string[] {
    return Object.keys(this.deps.carriers[geographyKey] ?? {});
  }

  /** The link to a carrier of a geography, or undefined when that carrier is not configured there. */
  link(geographyKey: string, carrier: string): SmppLink | undefined {
    const settings = this.deps.carriers[geographyKey]?.[carrier];
    if (!settings || !this.deps.enabledGeographies.includes(geographyKey)) return undefined;
    const name = `${geographyKey}/${carrier}`;
    let link = this.#links.get(name);
    if (!link) {
      link = new SmppLink({
        name,
        geographyKey,
        carrier: settings,
        tuning: this.deps.tuning,
        logger: this.deps.logger,
        loadSmpp: () => import('smpp').then((m) => ((m as { default?: typeof import('smpp') }).default ?? m) as typeof import('smpp')),
        onDeliver: (l, pdu) => this.#onDeliver(l, pdu),
      });
      this.#links.set(name, link);
    }
    return link;
  }

  /** Connects every configured carrier of the enabled geographies (in the background; failures reconnect with backoff). */
  connectAll(): void {
    for (const geographyKey of this.deps.enabledGeographies) {
      for (const carrier of this.carriersOf(geographyKey)) this.link(geographyKey, carrier)?.connect().catch(() => undefined);
    }
  }

  statuses(): ReturnType<SmppLink['status']>[] {
    return [...this.#links.values()].map((link) => link.status());
  }

  async closeAll(): Promise<void> {
    const links = [...this.#links.values()];
    this.#links.clear();
    await Promise.all(links.map((link) => link.close()));
  }
}
