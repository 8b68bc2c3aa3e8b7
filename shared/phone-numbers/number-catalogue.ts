import type { PoolNumber } from './pool-number.js';

/**
 * What a resource may search for, listed from what its geography's pool holds free (available
 * numbers, and reserved ones whose reservation ran out): the countries, the localities of a
 * country, the offerings (type, assignment type, capabilities, cost) and the area codes, in the
 * shapes of the ACS Phone Numbers API. Country names are localised with `Accept-Language`.
 */
export function isFree(number: PoolNumber, now: string): boolean {
  return number.status === 'available' || (number.status === 'reserved' && (number.reservation?.expiresAt ?? '') <= now);
}

function countryName(code: string, language: string | undefined): string {
  try {
    return new Intl.DisplayNames([language ?? 'en-US', 'en-US'], { type: 'region' }).of(code) ?? code;
  } catch {
    return new Intl.DisplayNames(['en-US'], { type: 'region' }).of(code) ?? code;
  }
}

/** The first language of an Accept-Language header. */
export function preferredLanguage(header: string | null): string | undefined {
  const first = header?.split(',')[0]?.split(';')[0]?.trim();
  return first && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(first) ? first : undefined;
}

export function countries(numbers: PoolNumber[], language: string | undefined): { localizedName: string; countryCode: string }[] {
  const codes = [...new Set(numbers.map((n) => n.countryCode))].sort();
  return codes.map((countryCode) => ({ localizedName: countryName(countryCode, language), countryCode }));
}

export function localities(numbers: PoolNumber[], filter: { countryCode: string; administrativeDivision?: string; phoneNumberType?: string }): Record<string, unknown>[] {
  const seen = new Map<string, Record<string, unknown>>();
  for (const n of numbers) {
    if (n.countryCode !== filter.countryCode || !n.locality) continue;
    if (filter.phoneNumberType && n.phoneNumberType !== filter.phoneNumberType) continue;
    if (filter.administrativeDivision && n.administrativeDivision?.abbreviatedName !== filter.administrativeDivision) continue;
    const key = `${n.locality}\u0000${n.administrativeDivision?.abbreviatedName ?? ''}`;
    if (!seen.has(key)) seen.set(key, { localizedName: n.locality, ...(n.administrativeDivision ? { administrativeDivision: n.administrativeDivision } : {}) });
  }
  return [...seen.values()].sort((a, b) => String(a.localizedName).localeCompare(String(b.localizedName)));
}

export function offerings(numbers: PoolNumber[], filter: { countryCode: string; phoneNumberType?: string; assignmentType?: string }): Record<string, unknown>[] {
  const seen = new Map<string, Record<string, unknown>>();
  for (const n of numbers) {
    if (n.countryCode !== filter.countryCode) continue;
    if (filter.phoneNumberType && n.phoneNumberType !== filter.phoneNumberType) continue;
    if (filter.assignmentType && n.assignmentType !== filter.assignmentType) continue;
    const key = [n.phoneNumberType, n.assignmentType, n.capabilities.calling, n.capabilities.sms, n.cost?.amount ?? '', n.cost?.currencyCode ?? ''].join('\u0000');
    if (!seen.has(key)) {
      seen.set(key, { phoneNumberType: n.phoneNumberType, assignmentType: n.assignmentType, availableCapabilities: n.capabilities, ...(n.cost ? { cost: n.cost } : {}) });
    }
  }
  return [...seen.values()];
}

export function areaCodes(
  numbers: PoolNumber[],
  filter: { countryCode: string; phoneNumberType: string; assignmentType?: string; locality?: string; administrativeDivision?: string },
): { areaCode: string }[] {
  const codes = new Set<string>();
  for (const n of numbers) {
    if (n.countryCode !== filter.countryCode || n.phoneNumberType !== filter.phoneNumberType || !n.areaCode) continue;
    if (filter.assignmentType && n.assignmentType !== filter.assignmentType) continue;
    if (filter.locality && n.locality !== filter.locality) continue;
    if (filter.administrativeDivision && n.administrativeDivision?.abbreviatedName !== filter.administrativeDivision) continue;
    codes.add(n.areaCode);
  }
  return [...codes].sort().map((areaCode) => ({ areaCode }));
}
