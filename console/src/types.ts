/** What the management API answers, as far as the console reads it (README, Management API). */
export type AccountStatus = 'ok' | 'wrongLocation' | 'shared' | 'notVerified';
export type Verdict = 'ok' | 'problemsFound' | 'notVerified';

export interface GeographyAudit {
  key: string;
  name: string;
  cosmosItems: number;
  blobs: number;
  misplacedCount: number;
  accounts: Record<'cosmos' | 'storage' | 'topic', { status: AccountStatus; detail: string }>;
  scanError?: string;
}

export interface Geography {
  key: string;
  name: string;
  regions: string[];
  enabled: boolean;
  whatsAppAdvancedMessaging: boolean;
  resourceCount: number;
  audit: GeographyAudit | null;
}

export interface AuditHeader {
  startedAt: string;
  finishedAt: string;
  verdict: Verdict;
  checked: number;
  misplacedCount: number;
}

export interface Geographies {
  value: Geography[];
  lastAudit: AuditHeader | null;
}

export interface MisplacedItem {
  store: 'cosmos' | 'blob';
  foundIn: string;
  location: string;
  id: string;
  resourceId: string;
  resourceGeography: string | null;
}

export interface AuditReport extends AuditHeader {
  geographies: { geography: string; cosmosItems: number; blobs: number; scanError?: string }[];
  misplaced: MisplacedItem[];
}

export interface Retention {
  idleThreadDays: number;
  recordingHours: number;
  logDays: number;
}

export interface Resource {
  id: string;
  name: string;
  geography: string;
  regions: string[];
  endpoint: string;
  eventPayloads: 'full' | 'minimal';
  retention: Retention;
  createdAt: string;
  state: string;
  primaryKey?: string;
  secondaryKey?: string;
  connectionString?: string;
  secondaryConnectionString?: string;
}

export interface Hold {
  id: string;
  target: { kind: 'thread'; threadId: string } | { kind: 'identity'; identityId: string };
  reason: string;
  placedAt: string;
  releasedAt?: string | null;
  releaseReason?: string | null;
}

export interface HeldItem {
  subjectType: 'chatThread' | 'recording';
  subjectId: string;
  holdIds: string[];
}

export interface Preview {
  at: string;
  retention: Retention;
  chatThreads: { count: number; idle: number; retentionPolicy: number; due: { threadId: string; reason: 'idle' | 'retentionPolicy'; lastActivityAt: string }[]; listedAll: boolean };
  keptForLegalHold: { count: number; items: HeldItem[] };
}

export type PurgeKind = 'chatRetention' | 'recordingPurge';

export interface PurgeRun {
  id: string;
  kind: PurgeKind;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt?: string;
  planned: number;
  done: number;
  held: number;
  failed: number;
  deleted: Record<string, number>;
  failure?: string;
}

export interface PurgeStatus {
  kind: PurgeKind;
  schedule: string;
  lastRun?: { id: string; status: string; startedAt: string; finishedAt?: string };
  nextDueAt?: string;
  attention: boolean;
  why?: string;
}

export interface PurgeRuns {
  status: PurgeStatus[];
  runs: Record<PurgeKind, PurgeRun[]>;
  missed: Record<PurgeKind, string[]>;
}

export type Action = 'inventory' | 'export' | 'delete';

export interface PrivacyRequest {
  id: string;
  action: Action;
  status: 'notStarted' | 'running' | 'succeeded' | 'failed';
  createdDateTime: string;
  lastUpdatedDateTime: string;
  completedDateTime?: string;
  subjects: { count: number };
  progress: { phase: string; phasesCompleted: number; phasesTotal: number; round?: number; failedAttempts?: number };
  counts: Record<string, { found: number; deleted?: number; held: number }>;
  holdIds: string[];
  result?: { receiptId?: string; location?: string; bytes?: number; expiresDateTime?: string };
  error?: { code?: string; message?: string } | string | null;
}

export interface Receipt {
  id: string;
  requestId: string;
  requestedAt: string;
  completedAt: string;
  subjects: string[];
  deleted: Record<string, number>;
  held: Record<string, number>;
  holdIds: string[];
}

export interface Session {
  authenticatedBy: 'managementKey' | 'principal';
  principal?: { objectId: string; name?: string; roles: string[] };
  principalSignIn: boolean;
}
