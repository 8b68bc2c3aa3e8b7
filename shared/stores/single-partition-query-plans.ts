import type { PluginConfig } from '@azure/cosmos';

/** The header the Cosmos SDK marks its query plan requests with (ClientContext.getQueryPlan). */
const QUERY_PLAN_HEADER = 'x-ms-cosmos-is-query-plan-request';

/** The reason a query plan request was not sent; the SDK keeps it and throws it only if it needs the plan. */
export class QueryPlanNotFetched extends Error {
  override readonly name = 'QueryPlanNotFetched';
}

/**
 * `@azure/cosmos` (4.x) asks the gateway for a query plan before every item query, side by side with
 * the query itself, and uses the plan only when the query comes back refused for want of one: that
 * happens to cross-partition queries only. A query that names its partition key (every query of this
 * app in a thread, an identity, a resource's partition) is answered by that one partition whatever
 * it holds (TOP, ORDER BY, aggregates), so its plan request is a store request spent on nothing
 * (Azure/azure-sdk-for-js#4978). This client plugin (the SDK's `plugins` option, which its public
 * types leave out; run on each network request) answers such a plan request itself with an error,
 * which the SDK keeps aside unread; if a later SDK did read it, the query would fail with this
 * error's message rather than run with a made-up plan. Cross-partition queries still fetch their
 * plans.
 */
export const skipSinglePartitionQueryPlans: PluginConfig = {
  on: 'request',
  plugin: async (context, _diagnostics, next) => {
    const planRequest = String(context.headers?.[QUERY_PLAN_HEADER] ?? '').toLowerCase() === 'true';
    if (planRequest && (context.options as { partitionKey?: unknown } | undefined)?.partitionKey !== undefined) {
      throw new QueryPlanNotFetched('No query plan was fetched for a query that names its partition key: the partition answers it whole.');
    }
    return next(context);
  },
};
