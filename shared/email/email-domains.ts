import type { Container } from '@azure/cosmos';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import { geographyByKey } from '../geography/geographies.js';
import type { Resource } from '../resources/resource.js';
import { deleteIfExists } from '../stores/cosmos-items.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import {
  canSend,
  domainItemId,
  domainView,
  MAX_SENDER_USERNAMES_PER_DOMAIN,
  senderItemId,
  senderView,
  VERIFICATION_TYPES,
  type EmailDomainRecord,
  type PutDomainBody,
  type PutSenderBody,
  type SenderUsernameRecord,
} from './email-domain-records.js';

/** The management of a resource's e-mail domains and sender usernames, and the sender check of every send. */
export class EmailDomains {
  constructor(private readonly deps: { stores: StoreDirectory; clock: Clock }) {}

  #container(resource: Resource): Promise<Container> {
    return this.deps.stores.forResource(resource).container('emailDomains');
  }

  #location = (resource: Resource) => geographyByKey(resource.geographyKey).name;

  /** Creates (201) or updates (200) a domain; states not named stay as they are (NotStarted for a new domain). */
  async putDomain(resource: Resource, domain: string, body: PutDomainBody): Promise<{ created: boolean; view: Record<string, unknown> }> {
    const container = await this.#container(resource);
    const now = this.deps.clock.now().toISOString();
    const existing = await this.#domain(container, resource.id, domain);
    const record: EmailDomainRecord = existing
      ? { ...existing, verificationStates: { ...existing.verificationStates, ...body.verificationStates }, updatedAt: now }
      : {
          id: domainItemId(domain),
          resourceId: resource.id,
          kind: 'emailDomain',
          domain,
          verificationStates: { ...Object.fromEntries(VERIFICATION_TYPES.map((t) => [t, 'NotStarted'])), ...body.verificationStates } as EmailDomainRecord['verificationStates'],
          createdAt: now,
          updatedAt: now,
        };
    await container.items.upsert(stripSystem(record));
    return { created: !existing, view: domainView(record, this.#location(resource)) };
  }

  async getDomain(resource: Resource, domain: string): Promise<Record<string, unknown>> {
    return domainView(await this.#requireDomain(await this.#container(resource), resource, domain), this.#location(resource));
  }

  async listDomains(resource: Resource): Promise<Record<string, unknown>[]> {
    const container = await this.#container(resource);
    const { resources } = await container.items
      .query<EmailDomainRecord>({ query: "SELECT * FROM c WHERE c.resourceId = @rid AND c.kind = 'emailDomain' ORDER BY c.id", parameters: [{ name: '@rid', value: resource.id }] }, { partitionKey: resource.id })
      .fetchAll();
    return resources.map((r) => domainView(r, this.#location(resource)));
  }

  /** Deletes a domain and its sender usernames; a send already accepted from it is still delivered. */
  async deleteDomain(resource: Resource, domain: string): Promise<void> {
    const container = await this.#container(resource);
    await this.#requireDomain(container, resource, domain);
    for (const sender of await this.#senders(container, resource.id, domain)) await deleteIfExists(container, sender.id, resource.id);
    await deleteIfExists(container, domainItemId(domain), resource.id);
  }

  async putSender(resource: Resource, domain: string, username: string, body: PutSenderBody): Promise<{ created: boolean; view: Record<string, unknown> }> {
    const container = await this.#container(resource);
    await this.#requireDomain(container, resource, domain);
    const now = this.deps.clock.now().toISOString();
    const { resource: existing } = await container.item(senderItemId(domain, username), resource.id).read<SenderUsernameRecord>();
    if (!existing && (await this.#senders(container, resource.id, domain)).length >= MAX_SENDER_USERNAMES_PER_DOMAIN) {
      throw new ServiceError('Conflict', `Domain ${domain} already has ${MAX_SENDER_USERNAMES_PER_DOMAIN} sender usernames, the most a domain may have.`, { target: 'username' });
    }
    const record: SenderUsernameRecord = {
      id: senderItemId(domain, username),
      resourceId: resource.id,
      kind: 'emailSenderUsername',
      domain,
      username,
      displayName: body.displayName ?? existing?.displayName ?? username,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await container.items.upsert(record);
    return { created: !existing, view: senderView(record) };
  }

  async listSenders(resource: Resource, domain: string): Promise<Record<string, unknown>[]> {
    const container = await this.#container(resource);
    await this.#requireDomain(container, resource, domain);
    return (await this.#senders(container, resource.id, domain)).map(senderView);
  }

  async getSender(resource: Resource, domain: string, username: string): Promise<Record<string, unknown>> {
    const container = await this.#container(resource);
    await this.#requireDomain(container, resource, domain);
    const { resource: record } = await container.item(senderItemId(domain, username), resource.id).read<SenderUsernameRecord>();
    if (!record) throw new ServiceError('NotFound', `Sender username '${username}' of ${domain} was not found.`, { target: 'username' });
    return senderView(record);
  }

  async deleteSender(resource: Resource, domain: string, username: string): Promise<void> {
    const container = await this.#container(resource);
    if (!(await deleteIfExists(container, senderItemId(domain, username), resource.id))) {
      throw new ServiceError('NotFound', `Sender username '${username}' of ${domain} was not found.`, { target: 'username' });
    }
  }

  /**
   * The MailFrom a send may use, as ACS checks it: the domain must be linked (here: recorded and
   * verified), else 404 DomainNotLinked; the username must be configured on it, else 400
   * InvalidSenderUserName. Returns the display name the message is sent with.
   */
  async resolveSender(resource: Resource, senderAddress: string): Promise<{ displayName: string }> {
    const at = senderAddress.lastIndexOf('@');
    const username = senderAddress.slice(0, at);
    const domain = senderAddress.slice(at + 1).toLowerCase();
    const container = await this.#container(resource);
    const record = await this.#domain(container, resource.id, domain);
    if (!record || !canSend(record)) throw new ServiceError('DomainNotLinked', 'The specified sender domain has not been linked.', { target: 'senderAddress' });
    const { resource: sender } = await container.item(senderItemId(domain, username), resource.id).read<SenderUsernameRecord>();
    if (!sender) {
      throw new ServiceError('InvalidSenderUserName', `Invalid email sender username: '${username}'. Please use a username from the list of valid usernames configured by your admin.`, {
        target: 'senderAddress',
      });
    }
    return { displayName: sender.displayName };
  }

  async #domain(container: Container, resourceId: string, domain: string): Promise<EmailDomainRecord | undefined> {
    const { resource } = await container.item(domainItemId(domain), resourceId).read<EmailDomainRecord>();
    return resource;
  }

  async #requireDomain(container: Container, resource: Resource, domain: string): Promise<EmailDomainRecord> {
    const record = await this.#domain(container, resource.id, domain);
    if (!record) throw new ServiceError('NotFound', `Domain ${domain} was not found on resource '${resource.name}'.`, { target: 'domain' });
    return record;
  }

  async #senders(container: Container, resourceId: string, domain: string): Promise<SenderUsernameRecord[]> {
    const { resources } = await container.items
      .query<SenderUsernameRecord>(
        {
          query: "SELECT * FROM c WHERE c.resourceId = @rid AND c.kind = 'emailSenderUsername' AND c.domain = @domain ORDER BY c.id",
          parameters: [
            { name: '@rid', value: resourceId },
            { name: '@domain', value: domain },
          ],
        },
        { partitionKey: resourceId },
      )
      .fetchAll();
    return resources;
  }
}

/** An item as it is written back: without the store's own fields. */
function stripSystem<T extends object>(item: T): T {
  return Object.fromEntries(Object.entries(item).filter(([key]) => !key.startsWith('_'))) as T;
}
