/**
 * The people an API operation involves, as raw ids: communication users (`8:acs:...`), phone
 * numbers (`4:+...`), Teams users (`8:orgid:...`) and the like. Found by walking a JSON value for
 * identifier models and raw id strings, so every route's request names its subjects the same way.
 */
const RAW_ID = /^(8:[a-z]+:\S+|4:\+\d{6,16})$/;

export function isRawId(value: string): boolean {
  return RAW_ID.test(value);
}

export function collectSubjectIds(value: unknown, into: Set<string> = new Set(), depth = 0): Set<string> {
  if (depth > 8 || value === null || value === undefined) return into;
  if (typeof value === 'string') {
    if (isRawId(value)) into.add(value);
    return into;
  }
  if (Array.isArray(value)) {
    for (const item of value.slice(0, 1000)) collectSubjectIds(item, into, depth + 1);
    return into;
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const phone = record.phoneNumber as { value?: unknown } | undefined;
    if (phone && typeof phone.value === 'string') into.add(phoneRawId(phone.value));
    for (const nested of Object.values(record)) collectSubjectIds(nested, into, depth + 1);
  }
  return into;
}

/** A phone number as ACS writes it in a raw id: `4:` and the E.164 number. */
export function phoneRawId(phoneNumber: string): string {
  return `4:${phoneNumber.replace(/[\s().-]/g, '')}`;
}

/**
 * How a participant id is searched for by a data subject request: e-mail addresses in lower case
 * (requests match them case-insensitively), every other raw id as it is.
 */
export function subjectSearchKey(rawId: string): string {
  return rawId.includes('@') && !rawId.includes(':') ? rawId.trim().toLowerCase() : rawId;
}
