/**
 * The 16 ACS data-residency geographies, their Azure regions and whether Advanced Messaging for
 * WhatsApp is offered there. This one table drives the app (store routing, validation) and the
 * infrastructure (which regions each geography's accounts may live in).
 */
export interface Geography {
  /** Stable lower-case key used in store names and setting suffixes. */
  key: string;
  /** The name ACS uses ("data location"). */
  name: string;
  /** Azure regions data at rest may live in; the first is the primary. */
  regions: readonly string[];
  whatsAppAdvancedMessaging: boolean;
}

export const GEOGRAPHIES: readonly Geography[] = [
  { key: 'africa', name: 'Africa', regions: ['southafricanorth', 'southafricawest'], whatsAppAdvancedMessaging: false },
  { key: 'asiapacific', name: 'Asia Pacific', regions: ['eastasia', 'southeastasia'], whatsAppAdvancedMessaging: true },
  { key: 'australia', name: 'Australia', regions: ['australiaeast', 'australiasoutheast'], whatsAppAdvancedMessaging: true },
  { key: 'brazil', name: 'Brazil', regions: ['brazilsouth', 'brazilsoutheast'], whatsAppAdvancedMessaging: false },
  { key: 'canada', name: 'Canada', regions: ['canadacentral', 'canadaeast'], whatsAppAdvancedMessaging: false },
  { key: 'europe', name: 'Europe', regions: ['northeurope', 'westeurope'], whatsAppAdvancedMessaging: true },
  { key: 'france', name: 'France', regions: ['francecentral', 'francesouth'], whatsAppAdvancedMessaging: false },
  { key: 'germany', name: 'Germany', regions: ['germanywestcentral', 'germanynorth'], whatsAppAdvancedMessaging: false },
  { key: 'india', name: 'India', regions: ['centralindia', 'southindia'], whatsAppAdvancedMessaging: false },
  { key: 'japan', name: 'Japan', regions: ['japaneast', 'japanwest'], whatsAppAdvancedMessaging: false },
  { key: 'korea', name: 'Korea', regions: ['koreacentral', 'koreasouth'], whatsAppAdvancedMessaging: false },
  { key: 'norway', name: 'Norway', regions: ['norwayeast', 'norwaywest'], whatsAppAdvancedMessaging: false },
  { key: 'switzerland', name: 'Switzerland', regions: ['switzerlandnorth', 'switzerlandwest'], whatsAppAdvancedMessaging: false },
  { key: 'uae', name: 'United Arab Emirates', regions: ['uaenorth', 'uaecentral'], whatsAppAdvancedMessaging: false },
  { key: 'uk', name: 'United Kingdom', regions: ['uksouth', 'ukwest'], whatsAppAdvancedMessaging: true },
  { key: 'unitedstates', name: 'United States', regions: ['eastus', 'westus2', 'centralus'], whatsAppAdvancedMessaging: true },
];

const normalise = (value: string): string => value.toLowerCase().replace(/[\s_-]+/g, '');

const BY_NAME = new Map<string, Geography>(
  GEOGRAPHIES.flatMap((g) => [
    [normalise(g.name), g],
    [g.key, g],
  ]),
);

/** Finds a geography by its name (any case, spaces optional) or key; undefined if unknown. */
export function findGeography(nameOrKey: string): Geography | undefined {
  return BY_NAME.get(normalise(nameOrKey));
}

export function geographyByKey(key: string): Geography {
  const geography = BY_NAME.get(key);
  if (!geography) throw new Error(`Unknown geography key ${key}`);
  return geography;
}
