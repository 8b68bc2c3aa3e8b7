import type { Clock } from '../clock.js';
import type { Settings } from '../config/settings.js';
import type { Outbox } from '../events/outbox.js';
import type { OperationLogs } from '../oplog/operation-log.js';
import type { PhoneNumberService } from '../phone-numbers/phone-number-service.js';
import type { Resource } from '../resources/resource.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import type { Logger } from '../telemetry/logger.js';
import { DeliveryReports } from './delivery-reports.js';
import { removeExpired } from './sms-housekeeping.js';
import { SmsInbound } from './sms-inbound.js';
import type { SmsRecords } from './sms-records.js';
import { SmsSender, type SendBody, type SendResponseItem } from './sms-send.js';
import { SmppLinks } from './smpp-links.js';

/**
 * SMS as the app offers it: sending (SmsSender) over the carrier links of each geography
 * (SmppLinks), and what the carriers deliver on them: receipts (DeliveryReports) and inbound
 * messages (SmsInbound). The links connect when the app starts (inbound messages need a bound
 * receiver) or on the first send, whichever comes first.
 */
export interface SmsService {
  links: SmppLinks;
  send(resource: Resource, body: SendBody): Promise<SendResponseItem[]>;
  /** Binds every configured carrier link (in the background). */
  connectLinks(): void;
  /** Removes expired delivery records, repeatability claims, searches and operations in every geography. */
  housekeeping(maxItems: number): Promise<number>;
  dispose(): Promise<void>;
}

export function createSmsService(deps: {
  settings: Settings;
  stores: StoreDirectory;
  outboxFor: (geo: GeoStore) => Outbox;
  clock: Clock;
  logger: Logger;
  oplogs: OperationLogs;
  phoneNumbers: PhoneNumberService;
  records: SmsRecords;
  resourceById: (id: string) => Promise<Resource | undefined>;
}): SmsService {
  const links = new SmppLinks({ carriers: deps.settings.smsCarriers, enabledGeographies: deps.settings.enabledGeographies, tuning: deps.settings.sms, logger: deps.logger });
  const sender = new SmsSender({ stores: deps.stores, pool: deps.phoneNumbers.pool, records: deps.records, links, clock: deps.clock, logger: deps.logger });
  const reports = new DeliveryReports({ records: deps.records, outboxFor: deps.outboxFor, oplogs: deps.oplogs, clock: deps.clock, logger: deps.logger });
  const inbound = new SmsInbound({
    stores: deps.stores,
    pool: deps.phoneNumbers.pool,
    records: deps.records,
    reports,
    outboxFor: deps.outboxFor,
    oplogs: deps.oplogs,
    resourceById: deps.resourceById,
    clock: deps.clock,
    logger: deps.logger,
  });
  links.onDeliver((link, pdu) => inbound.handle(link, pdu));
  return {
    links,
    send: (resource, body) => sender.send(resource, body),
    connectLinks: () => links.connectAll(),
    housekeeping: async (maxItems) => {
      let removed = 0;
      for (const geo of deps.stores.all()) removed += await removeExpired(geo, deps.clock, maxItems);
      return removed;
    },
    dispose: () => links.closeAll(),
  };
}
