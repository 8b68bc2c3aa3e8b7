/**
 * The Storage queues background work is spread over (in the Functions host's own storage account,
 * AzureWebJobsStorage): the timers plan and enqueue work items, queue-triggered functions do them on
 * every instance the plan runs. The one list of names: the functions, the sender, the infrastructure
 * (infra/catalogue.json) and the dev host's tests take them from here.
 */
export const WORK_QUEUES = {
  /** One item per expiring chat thread; per resource for operation logs; per geography for finished privacy requests. */
  chatRetention: 'work-chat-retention',
  /** One item per expired recording; per geography for rejected landing files. */
  recordingPurge: 'work-recording-purge',
  /** One item per slice of a data subject request (a few steps; the next slice is a new item). */
  privacyRequests: 'work-privacy-requests',
  /** One item per outbox entry left unfinished. */
  outboxRepublish: 'work-outbox-republish',
} as const;

export type WorkQueueKey = keyof typeof WORK_QUEUES;
export type WorkQueueName = (typeof WORK_QUEUES)[WorkQueueKey];

/** Where the host moves a message that failed `maxDequeueCount` times (the Functions host's naming). */
export const poisonQueueOf = (queue: WorkQueueName): `${WorkQueueName}-poison` => `${queue}-poison`;

/** Every queue the app uses, poison queues included (what the infrastructure creates). */
export const ALL_WORK_QUEUES: string[] = Object.values(WORK_QUEUES).flatMap((queue) => [queue, poisonQueueOf(queue)]);

/**
 * How work item text is encoded. It must match host.json's `extensions.queues.messageEncoding`
 * (the host decodes what it hands the function); test/unit/work-items.test.ts checks host.json.
 */
export const WORK_QUEUE_MESSAGE_ENCODING = 'base64' as const;
