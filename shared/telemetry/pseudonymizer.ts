import { createHmac } from 'node:crypto';

/**
 * Keyed hash for identities, phone numbers and e-mail addresses in telemetry and receipts: stable
 * (the same subject always hashes the same, so logs can be correlated) but not reversible without
 * the key, which never leaves the app settings.
 */
export type Pseudonymizer = (value: string) => string;

export function createPseudonymizer(key: string): Pseudonymizer {
  return (value: string) => 'h:' + createHmac('sha256', key).update(value.trim().toLowerCase()).digest('base64url').slice(0, 22);
}
