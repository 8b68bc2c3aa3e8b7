import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';

/**
 * Transactional batches for the embedded Cosmos server, as Cosmos runs them: what the real client's
 * `container.items.batch(operations, partitionKey)` sends (POST to the collection's docs with
 * `x-ms-cosmos-is-batch-request: True` and `x-ms-cosmos-batch-atomic: True`, the partition key in
 * `x-ms-documentdb-partitionkey`, a JSON array of operations). cosmosdb-server runs such a request
 * operation by operation and keeps whatever succeeded before a failure; after this patch, an atomic
 * batch is all or nothing:
 * - at most 100 operations, all in the request's partition (an operation or document naming another
 *   partition fails with 400), else the whole request is refused with 400;
 * - Create, Upsert, Replace, Read, Delete and Patch (with its condition), each with `ifMatch`;
 * - when one operation fails, every change the batch made is undone and the answer is 207
 *   (Multi-Status) with the failing operation's status and 424 (Failed Dependency) for all others;
 *   when all succeed, 200 with each operation's status, etag and resource body.
 * The batch runs synchronously, so no other request sees it half-done. Non-atomic batches (the
 * client's bulk) keep cosmosdb-server's handler. Applied once per process.
 */
export const MAX_BATCH_OPERATIONS = 100;

interface Doc {
  id: string;
  _etag?: string;
  [key: string]: unknown;
}

interface Documents {
  create(data: object): Doc;
  delete(idOrRid: string, partition: unknown): void;
  _set(data: Doc): Doc;
  _getPartition(data: object): unknown;
}

interface Collection {
  read(): unknown;
  documents: Documents;
  document(id: string, partition: unknown): { read(): Doc | undefined };
}

interface Account {
  database(id: string): { collection(id: string): Collection };
}

type Handler = (account: Account, req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => Promise<unknown>;
type Route = ((req: IncomingMessage) => [Record<string, string>, Handler] | undefined) & { atomicBatch?: boolean };

interface OperationInput {
  operationType?: unknown;
  id?: unknown;
  partitionKey?: unknown;
  ifMatch?: unknown;
  resourceBody?: unknown;
}

interface Outcome {
  statusCode: number;
  body?: unknown;
}

interface DocumentOperations {
  createOperation(collection: Collection, input: object): Outcome;
  upsertOperation(collection: Collection, input: object): Outcome;
  replaceOperation(collection: Collection, input: object): Outcome;
  readOperation(collection: Collection, input: object): Outcome;
  deleteOperation(collection: Collection, input: object): Outcome;
}

interface PatchOperations {
  patchOperation(collection: Collection, input: object): Outcome;
}

export function installTransactionalBatch(): void {
  const require = createRequire(import.meta.url);
  const lib = (path: string) => require(`@vercel/cosmosdb-server/lib/${path}`) as unknown;
  const routes = lib('routes.js') as { default: Route };
  if (routes.default.atomicBatch) return;
  const nonAtomic = (lib('handler/batch-documents.js') as { default: Handler }).default;
  const readJson = (lib('json.js') as { default: (req: IncomingMessage) => Promise<unknown> }).default;
  const { parsePartitionKey } = lib('utils/get-partition-from-header.js') as { parsePartitionKey(header: string, fallback: string): unknown };
  const documentOperations = lib('handler/_document-operations.js') as DocumentOperations;
  // Read at call time: the emulator's patch module is itself patched (keepPatchConditionsCase).
  const patchModule = lib('handler/_patch-operations.js') as PatchOperations;

  const atomicBatch: Handler = async (account, req, res, { dbId, collId }) => {
    const body = await readJson(req);
    const collection = account.database(dbId!).collection(collId!);
    if (!collection.read()) {
      res.statusCode = 404;
      return { code: 'NotFound', message: 'The collection does not exist.' };
    }
    const header = req.headers['x-ms-documentdb-partitionkey'];
    const refuse = (message: string) => {
      res.statusCode = 400;
      return { code: 'BadRequest', message };
    };
    if (!Array.isArray(body) || body.length === 0) return refuse('A batch request needs at least one operation.');
    if (body.length > MAX_BATCH_OPERATIONS) return refuse('Batch request has more operations than what is supported.');
    if (typeof header !== 'string') return refuse('A transactional batch must name its partition key.');
    let partition: unknown;
    try {
      partition = parsePartitionKey(header, '');
    } catch {
      return refuse('The partition key header cannot be read.');
    }
    const inputs = body as OperationInput[];
    const undo = new Undo(collection);
    const outcomes: Outcome[] = [];
    for (const input of inputs) {
      const outcome = apply(collection, input, { header, partition }, undo);
      outcomes.push(outcome);
      if (outcome.statusCode >= 400) {
        undo.rollback();
        res.statusCode = 207;
        const failed = outcomes.length - 1;
        return inputs.map((_, i) =>
          i === failed
            ? { statusCode: outcome.statusCode, requestCharge: 0, ...(messageOf(outcome) ? { message: messageOf(outcome) } : {}) }
            : { statusCode: 424, requestCharge: 0 },
        );
      }
    }
    return outcomes.map((outcome) => {
      const resource = outcome.body as Doc | undefined;
      return { statusCode: outcome.statusCode, requestCharge: 1, ...(resource?._etag ? { eTag: resource._etag, resourceBody: resource } : {}) };
    });
  };

  /** One operation of the batch, in the batch's partition; what it changes is remembered for a rollback. */
  function apply(collection: Collection, input: OperationInput, batch: { header: string; partition: unknown }, undo: Undo): Outcome {
    const bad = (message: string): Outcome => ({ statusCode: 400, body: { code: 'BadRequest', message } });
    if (input.partitionKey !== undefined) {
      let named: unknown;
      try {
        named = typeof input.partitionKey === 'string' ? parsePartitionKey(input.partitionKey, '') : undefined;
      } catch {
        named = undefined;
      }
      if (named !== batch.partition) return bad('An operation of a transactional batch names another partition key than the batch.');
    }
    const ifMatch = typeof input.ifMatch === 'string' ? { ifMatch: input.ifMatch } : {};
    switch (input.operationType) {
      case 'Create':
      case 'Upsert':
      case 'Replace': {
        const doc = input.resourceBody;
        if (!doc || typeof doc !== 'object' || typeof (doc as Doc).id !== 'string') return bad('The operation has no resource body with an id.');
        if (collection.documents._getPartition(doc) !== batch.partition) return bad('PartitionKey extracted from document doesn\'t match the one specified in the header.');
        undo.remember((doc as Doc).id, batch.partition);
        const operation = { Create: documentOperations.createOperation, Upsert: documentOperations.upsertOperation, Replace: documentOperations.replaceOperation }[input.operationType];
        return operation(collection, { resourceBody: doc, partitionKey: batch.header, ...ifMatch });
      }
      case 'Read':
      case 'Delete':
      case 'Patch': {
        if (typeof input.id !== 'string') return bad('The operation has no id.');
        if (input.operationType === 'Read') return documentOperations.readOperation(collection, { id: input.id, partitionKey: batch.header });
        undo.remember(input.id, batch.partition);
        if (input.operationType === 'Delete') return documentOperations.deleteOperation(collection, { id: input.id, partitionKey: batch.header, ...ifMatch });
        const patch = input.resourceBody as { operations?: unknown; condition?: unknown } | unknown[] | undefined;
        const operations = Array.isArray(patch) ? patch : patch?.operations;
        if (!Array.isArray(operations)) return bad('Invalid patch request: check syntax of patch specification.');
        const condition = !Array.isArray(patch) && typeof patch?.condition === 'string' ? patch.condition : undefined;
        return patchModule.patchOperation(collection, { id: input.id, partitionKey: batch.header, operations, ...(condition ? { condition } : {}), ...ifMatch });
      }
      default:
        return bad(`Operation type '${String(input.operationType)}' is not supported in Batch.`);
    }
  }

  const original = routes.default;
  const routed: Route = (req) => {
    const route = original(req);
    if (!route || route[1] !== nonAtomic || !isTrue(req.headers['x-ms-cosmos-batch-atomic'])) return route;
    return [route[0], atomicBatch];
  };
  routed.atomicBatch = true;
  routes.default = routed;
}

/** The items a batch touched, as they were before it; a rollback puts them back exactly (ids, etags, times). */
class Undo {
  readonly #before = new Map<string, { id: string; partition: unknown; doc: Doc | undefined }>();

  constructor(private readonly collection: Collection) {}

  remember(id: string, partition: unknown): void {
    const key = JSON.stringify([id, partition]);
    if (this.#before.has(key)) return;
    this.#before.set(key, { id, partition, doc: this.collection.document(id, partition).read() });
  }

  rollback(): void {
    const touched = [...this.#before.values()];
    // Everything the batch left goes first, then the items as they were (unique keys stay consistent).
    for (const { id, partition } of touched) if (this.collection.document(id, partition).read()) this.collection.documents.delete(id, partition);
    for (const { doc } of touched) if (doc) this.collection.documents._set(doc);
  }
}

function isTrue(header: string | string[] | undefined): boolean {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return values.some((value) => value.toLowerCase() === 'true');
}

function messageOf(outcome: Outcome): string | undefined {
  const message = (outcome.body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}
