import type { BlobServiceClient, StoragePipelineOptions } from '@azure/storage-blob';
import { endpointsFor, type Settings } from '../config/settings.js';
import { ServiceError } from '../errors/service-error.js';
import { geographyByKey, type Geography } from '../geography/geographies.js';
import type { CredentialSource } from './azure-credential.js';
import type { CosmosClients } from './cosmos-clients.js';
import { GeoStore } from './geo-store.js';
import { geoStoreName } from './store-catalogue.js';
import type { StoreTls } from './store-tls.js';

/** Anything that belongs to a resource and therefore to its geography. */
export interface ResidencyPinned {
  id: string;
  geographyKey: string;
}

/**
 * Hands out per-geography store handles. Domain code asks for the store of a resource; the
 * geography comes from the resource, never from the caller. Only enabled geographies have stores:
 * their accounts come from their own settings (in strict residency, only from those).
 */
export class StoreDirectory {
  readonly #stores = new Map<string, GeoStore>();
  readonly #blobServices = new Map<string, Promise<BlobServiceClient>>();

  constructor(
    private readonly settings: Settings,
    private readonly cosmosClients: CosmosClients,
    private readonly credential: CredentialSource,
    private readonly tls: StoreTls,
  ) {}

  forResource(resource: ResidencyPinned): GeoStore {
    return this.forGeography(geographyByKey(resource.geographyKey));
  }

  forGeography(geography: Geography): GeoStore {
    let store = this.#stores.get(geography.key);
    if (!store) {
      if (!this.settings.enabledGeographies.includes(geography.key)) {
        // A resource created before its geography was disabled: its data stays where it is, unreachable.
        throw new ServiceError('ServiceUnavailable', `The geography ${geography.name} is not enabled in this deployment.`);
      }
      // parseSettings refused to start without these (shared/config/strict-residency.ts).
      const endpoints = endpointsFor(this.settings, geography.key);
      const prefix = geoStoreName(this.settings, geography.key);
      store = new GeoStore(geography, {
        cosmos: () => this.cosmosClients.get(endpoints.cosmosEndpoint!, endpoints.cosmosKey),
        blobs: () => this.#blobService(endpoints.storageAccountUrl, endpoints.storageConnectionString),
        databaseId: prefix,
        blobContainerPrefix: prefix,
        provision: this.settings.storeProvisioning === 'create',
      });
      this.#stores.set(geography.key, store);
    }
    return store;
  }

  /** The stores of every enabled geography. */
  all(): GeoStore[] {
    return this.settings.enabledGeographies.map((key) => this.forGeography(geographyByKey(key)));
  }

  /** A connection string (keys, emulators) when given, else the account URL with an Entra token. */
  #blobService(accountUrl: string | undefined, connectionString: string | undefined): Promise<BlobServiceClient> {
    const cacheKey = connectionString ?? `url:${accountUrl}`;
    let service = this.#blobServices.get(cacheKey);
    if (!service) {
      // `tlsOptions` reaches the client's core pipeline (createPipelineFromOptions), which the storage
      // options type does not list; it is set only for the local stack's HTTPS emulators.
      const options: StoragePipelineOptions & { tlsOptions?: StoreTls['tlsOptions'] } = this.tls.tlsOptions ? { tlsOptions: this.tls.tlsOptions } : {};
      service = import('@azure/storage-blob').then(async ({ BlobServiceClient }) =>
        connectionString
          ? BlobServiceClient.fromConnectionString(connectionString, options)
          : new BlobServiceClient(accountUrl!, await this.credential(), options),
      );
      this.#blobServices.set(cacheKey, service);
      service.catch(() => this.#blobServices.delete(cacheKey));
    }
    return service;
  }
}
