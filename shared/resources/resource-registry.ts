import type { Container } from '@azure/cosmos';
import type { ControlStore } from '../stores/control-store.js';
import type { Resource } from './resource.js';

/** The registry document: keyed by the lower-cased name, so names are unique case-insensitively. */
export interface ResourceDoc extends Omit<Resource, 'id'> {
  id: string;
  resourceId: string;
  _etag?: string;
}

export const nameKey = (name: string): string => name.toLowerCase();

export function toDoc(resource: Resource): ResourceDoc {
  const { id, ...rest } = resource;
  return { ...rest, id: nameKey(resource.name), resourceId: id };
}

export function fromDoc(doc: ResourceDoc): { resource: Resource; etag: string | undefined } {
  const { id: _key, resourceId, _etag, ...rest } = doc;
  const clean = Object.fromEntries(Object.entries(rest).filter(([k]) => !k.startsWith('_'))) as Omit<Resource, 'id'>;
  return { resource: { ...clean, id: resourceId }, etag: _etag };
}

export class ResourceRegistry {
  constructor(private readonly control: ControlStore) {}

  container(): Promise<Container> {
    return this.control.container('resources');
  }

  async getByName(name: string): Promise<{ resource: Resource; etag: string | undefined } | undefined> {
    const container = await this.container();
    const { resource: doc } = await container.item(nameKey(name), nameKey(name)).read<ResourceDoc>();
    return doc ? fromDoc(doc) : undefined;
  }

  async list(): Promise<Resource[]> {
    const container = await this.container();
    const { resources } = await container.items.query<ResourceDoc>('SELECT * FROM c').fetchAll();
    return resources.map((doc) => fromDoc(doc).resource).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The resource with an id (a cross-partition query: for paths that know only the id, such as storage events). */
  async getById(resourceId: string): Promise<Resource | undefined> {
    const container = await this.container();
    const { resources } = await container.items
      .query<ResourceDoc>({ query: 'SELECT * FROM c WHERE c.resourceId = @id', parameters: [{ name: '@id', value: resourceId }] })
      .fetchAll();
    const doc = resources.find((d) => d.state !== 'deleted') ?? resources[0];
    return doc ? fromDoc(doc).resource : undefined;
  }

  /** Creates a new document; false if one with the name appeared meanwhile. */
  async create(resource: Resource): Promise<boolean> {
    const container = await this.container();
    try {
      await container.items.create(toDoc(resource));
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 409) return false;
      throw error;
    }
  }

  /** Replaces the document if it is unchanged since it was read; false if it changed. */
  async replace(resource: Resource, etag: string | undefined): Promise<boolean> {
    const container = await this.container();
    const doc = toDoc(resource);
    try {
      await container.item(doc.id, doc.id).replace(doc, etag ? { accessCondition: { type: 'IfMatch', condition: etag } } : {});
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 412) return false;
      throw error;
    }
  }
}
