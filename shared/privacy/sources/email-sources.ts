import { senderItemId, type SenderUsernameRecord } from '../../email/email-domain-records.js';
import type { EmailOperationRecord } from '../../email/email-operation.js';
import { deleteSuppression, readSuppression } from '../../email/email-suppressions.js';
import { deleteIfExists } from '../../stores/cosmos-items.js';
import { itemsNaming, keyedPage } from './keyed-walk.js';
import type { FoundItem, PrivacyContext, SubjectSource } from './subject-source.js';

/**
 * What the e-mail stores hold about an address (the subjects' `emails`, in lower case): its
 * suppression entry, sender usernames whose MailFrom it is, and messages still being delivered
 * that name it as sender or recipient. Finished send operations name no address, delivery logs are
 * operation log records and delivery reports outbox entries (their own sources find them).
 */
const emailSubjects = (ctx: PrivacyContext) => ctx.subjects.emails;

/** The hard-bounce suppression entry of each address (expired ones not yet purged too): one point read each. */
export const emailSuppressionSource: SubjectSource = {
  name: 'emailSuppressions',
  section: 'emailSuppressions',
  async page(ctx) {
    const items: FoundItem[] = [];
    for (const address of emailSubjects(ctx)) {
      const entry = await readSuppression(ctx.geo, ctx.resource.id, address);
      if (!entry) continue;
      const facts = { reason: entry.reason, code: entry.code, bouncedAt: entry.bouncedAt, expiresAt: entry.expiresAt };
      items.push({ kind: 'emailSuppression', id: entry.id, facts, view: { address: entry.address, ...facts }, ref: address });
    }
    return { items, next: null };
  },
  async erase(ctx, refs) {
    for (const address of refs as string[]) await deleteSuppression(ctx.geo, ctx.resource.id, address);
  },
};

/** Sender usernames (MailFrom addresses) that are a subject's address: one point read each. */
export const emailSenderSource: SubjectSource = {
  name: 'emailSenders',
  section: 'emailSenders',
  async page(ctx) {
    const container = await ctx.geo.container('emailDomains');
    const items: FoundItem[] = [];
    for (const address of emailSubjects(ctx)) {
      const at = address.lastIndexOf('@');
      const id = senderItemId(address.slice(at + 1), address.slice(0, at));
      const { resource: sender } = await container.item(id, ctx.resource.id).read<SenderUsernameRecord>();
      if (!sender) continue;
      const view = { mailFrom: `${sender.username}@${sender.domain}`, displayName: sender.displayName, createdAt: sender.createdAt };
      items.push({ kind: 'emailSender', id, view, facts: { domain: sender.domain }, ref: id });
    }
    return { items, next: null };
  },
  async erase(ctx, refs) {
    const container = await ctx.geo.container('emailDomains');
    for (const id of refs as string[]) await deleteIfExists(container, id, ctx.resource.id);
  },
};

type PendingSummary = Pick<EmailOperationRecord, 'id' | 'status' | 'createdAt' | 'sender' | 'subjectKeys'>;

/**
 * Messages not yet delivered that name an address (as sender or recipient), found by `subjectKeys`
 * within the resource's partition. Erasing one cancels it for everyone: the content is deleted, the
 * operation ends `Canceled` without addresses, and no delivery report is sent (it would name them).
 */
export const emailMessageSource: SubjectSource = {
  name: 'emailMessages',
  section: 'emailMessages',
  async page(ctx, cursor) {
    const container = await ctx.geo.container('emailOperations');
    const { records, next } = await keyedPage<PendingSummary>(
      {
        ...ctx,
        subjects: { ...ctx.subjects, keys: emailSubjects(ctx) },
      },
      cursor,
      (key, after, limit) =>
        itemsNaming<PendingSummary>(container, ctx.resource.id, { select: 'c.id, c.status, c.createdAt, c.sender, c.subjectKeys', field: 'subjectKeys', filter: "c.kind = 'emailOperation'" }, key, after, limit),
      (r) => r.subjectKeys ?? [],
    );
    const own = new Set(emailSubjects(ctx));
    const items: FoundItem[] = records.map((r) => {
      // Named as the sender, or else as a recipient or reply-to address.
      const role = r.sender && own.has(r.sender) ? 'sender' : 'recipient';
      return { kind: 'emailMessage', id: r.id, facts: { status: r.status, role }, view: { operationId: r.id, status: r.status, createdAt: r.createdAt, role }, ref: r.id };
    });
    return { items, next };
  },
  async erase(ctx, refs) {
    for (const id of refs as string[]) await ctx.email.cancel(ctx.geo, ctx.resource.id, id);
  },
};
