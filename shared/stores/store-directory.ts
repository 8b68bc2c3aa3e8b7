import type { BlobServiceClient } from '@azure/storage-blob';
import { endpointsFor, type Settings } from '../config/settings.js';
import { GEOGRAPHIES, geographyByKey, type Geography } from '../geography/geographies.js';
import type { CosmosClients } from './cosmos-clients.js';
import { GeoStore } from './geo-store.js';

/** Anything that belongs to a resource and therefore to its geography. */
export interface ResidencyPinned {
  id: string;
  geographyKey: string;
}

/**
 * Hands out per-geography store handles. Domain code asks for the store of a resource; the
 * geography comes from the resource, never from the caller.
 */
export class StoreDirectory {
  readonly #stores = new Map<string, GeoStore>();
  readonly #blobServices = new Map<string, Promise<BlobServiceClient>>();

  constructor(
    private readonly settings: Settings,
    private readonly cosmosClients: CosmosClients,
  ) {}

  forResource(resource: ResidencyPinned): GeoStore {
    return this.forGeography(geographyByKey(resource.geographyKey));
  }

  forGeography(geography: Geography): GeoStore {
    let store = this.#stores.get(geography.key);
    if (!store) {
      const endpoints = endpointsFor(this.settings, geography.key);
      const prefix = `${this.settings.geoStorePrefix}-${geography.key}`;
      store = new GeoStore(geography, {
        cosmos: () => this.cosmosClients.get(endpoints.cosmosEndpoint, endpoints.cosmosKey),
        blobs: () => this.#blobService(endpoints.storageConnectionString),
        databaseId: prefix,
        blobContainerPrefix: prefix,
      });
      this.#stores.set(geography.key, store);
    }
    return store;
  }

  all(): GeoStore[] {
    return GEOGRAPHIES.map((g) => this.forGeography(g));
  }

  #blobService(connectionString: string): Promise<BlobServiceClient> {
    let service = this.#blobServices.get(connectionString);
    if (!service) {
      service = import('@azure/storage-blob').then(({ BlobServiceClient }) =>
        BlobServiceClient.fromConnectionString(connectionString),
      );
      this.#blobServices.set(connectionString, service);
    }
    return service;
  }
}
