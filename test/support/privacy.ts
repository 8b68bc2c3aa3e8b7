import type { Clock } from '../../shared/clock.js';
import type { ResourceView, TestResponse, TestStack } from './test-stack.js';

/** Drives the privacy API as a client would (HMAC with the resource key) and runs the worker timer. */
export interface Subjects {
  identityIds?: string[];
  phoneNumbers?: string[];
  emails?: string[];
}

export class PrivacyClient {
  constructor(
    private readonly stack: () => TestStack,
    private readonly resource: ResourceView,
    private readonly clock?: Clock,
  ) {}

  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse> {
    return this.stack().signed({
      method,
      endpoint: this.resource.endpoint,
      path,
      key: this.resource.primaryKey,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(this.clock ? { date: this.clock.now() } : {}),
      ...(headers ? { headers } : {}),
    });
  }

  async submit(action: string, subjects: Subjects): Promise<{ id: string; location: string }> {
    const response = await this.call('POST', '/privacy/requests', { action, subjects });
    if (response.status !== 202) throw new Error(`submit ${action}: ${response.status} ${response.text}`);
    return { id: response.body.id, location: response.headers.get('operation-location')! };
  }

  status(id: string): Promise<TestResponse> {
    return this.call('GET', `/privacy/requests/${id}`);
  }

  /** Runs the planner timer now (as its schedule would) and waits until the work items it enqueued are done. */
  async runWorker(): Promise<void> {
    await this.stack().runFunction('privacyWorker');
  }

  /**
   * Runs the worker until the request has finished; returns its final status view. Bounded by time,
   * not by runs: a run finds nothing to do while the scheduled worker holds the request's lease.
   */
  async finished(id: string, timeoutMs = 120_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const view = (await this.status(id)).body as Record<string, any>;
      if (view.status === 'succeeded' || view.status === 'failed') return view;
      await this.runWorker();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`request ${id} did not finish within ${timeoutMs} ms`);
  }

  async run(action: string, subjects: Subjects): Promise<Record<string, any>> {
    const { id } = await this.submit(action, subjects);
    return this.finished(id);
  }

  /** The request's result document (inventory listing or export bundle), parsed. */
  async result(id: string): Promise<Record<string, any>> {
    const response = await this.call('GET', `/privacy/requests/${id}/result`);
    if (response.status !== 200) throw new Error(`result: ${response.status} ${response.text}`);
    return response.body as Record<string, any>;
  }
}
