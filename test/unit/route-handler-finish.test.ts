import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../shared/errors/service-error.js';
import { routeHandler, type OperationOutcome, type RouteServices } from '../../shared/http/route-handler.js';
import type { Resource } from '../../shared/resources/resource.js';
import { capturedLogger } from '../support/captured-logger.js';

/**
 * The rest of a request's work (OperationScope.finish: a chat send's publication, a user write's
 * check that its caller was not being deleted meanwhile) runs beside the operation log write, not
 * after it; when it fails, the answer becomes its error and the record is rewritten with what the
 * caller got.
 */
const resource = { id: 'r1', name: 'r', geography: 'europe' } as unknown as Resource;

/** A promise with its resolve and reject, to hold a step until the test lets it go. */
function gate<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function harness(options: { recordFails?: boolean; amendFails?: boolean } = {}) {
  const steps: string[] = [];
  const written: OperationOutcome[] = [];
  const amended: Pick<OperationOutcome, 'status' | 'durationMs'>[] = [];
  const { logger, lines } = capturedLogger();
  const recordGate = gate();
  const services: RouteServices = {
    logger,
    recordOperation: async (outcome) => {
      steps.push('record started');
      written.push(outcome);
      await recordGate.promise;
      steps.push('record written');
      if (options.recordFails) throw Object.assign(new Error('store unavailable'), { code: 503 });
      return {
        amend: async (answer) => {
          steps.push('record amended');
          if (options.amendFails) throw new Error('store unavailable');
          amended.push(answer);
        },
      };
    },
  };
  return { steps, written, amended, lines, recordGate, services: () => services };
}

/** A handler that answers 201 and leaves work to finish that fails with `error`. */
const answering201ThenFailing = (h: ReturnType<typeof harness>, error: Error) =>
  routeHandler(
    {
      POST: async ({ operation }) => {
        operation.resource = resource;
        operation.finish = () => Promise.reject(error);
        return { status: 201 };
      },
    },
    h.services,
  );

const call = (handler: ReturnType<typeof routeHandler>) =>
  handler(new HttpRequest({ method: 'POST', url: 'http://localhost/api/chat/threads/t/messages' }), new InvocationContext({ invocationId: 'c0ffee', functionName: 'chatMessages' })) as Promise<HttpResponseInit>;

describe('a handler that leaves work to finish after its answer', () => {
  it('has that work and the log write under way together; the answer is the handler\'s once both are done', async () => {
    const h = harness();
    const finishGate = gate();
    const handler = routeHandler(
      {
        POST: async ({ operation }) => {
          operation.resource = resource;
          operation.finish = async () => {
            h.steps.push('finish started');
            await finishGate.promise;
            h.steps.push('finished');
          };
          return { status: 201, jsonBody: { id: 'm1' } };
        },
      },
      h.services,
    );
    const answered = call(handler);
    await new Promise((resolve) => setImmediate(resolve));
    // Both started before either finished.
    expect(h.steps).toEqual(['finish started', 'record started']);
    finishGate.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    h.recordGate.resolve();
    const response = await answered;
    expect(response.status).toBe(201);
    expect(response.jsonBody).toEqual({ id: 'm1' });
    expect(response.headers).toEqual({ 'x-ms-correlation-id': 'c0ffee' });
    expect(h.written.map((o) => o.status)).toEqual([201]);
    expect(h.steps).toEqual(['finish started', 'record started', 'finished', 'record written']);
    expect(h.amended).toEqual([]);
  });

  it('answers that work\'s error instead, and rewrites the record with that status', async () => {
    const h = harness();
    const handler = answering201ThenFailing(h, new ServiceError('Unauthorized', 'The access token is not valid.'));
    h.recordGate.resolve();
    const response = await call(handler);
    expect(response.status).toBe(401);
    expect(response.jsonBody).toEqual({ error: { code: 'Unauthorized', message: 'The access token is not valid.' } });
    expect(h.written.map((o) => o.status)).toEqual([201]);
    expect(h.amended.map((a) => a.status)).toEqual([401]);
    expect(h.amended[0]!.durationMs).toBeGreaterThanOrEqual(h.written[0]!.durationMs);
  });

  it('answers 500 with the correlation id for an unexpected failure, logged without its message reaching the caller', async () => {
    const h = harness();
    const handler = answering201ThenFailing(h, new Error('socket hang up at 10.0.0.7'));
    h.recordGate.resolve();
    const response = await call(handler);
    expect(response.status).toBe(500);
    expect(JSON.stringify(response.jsonBody)).not.toContain('10.0.0.7');
    expect(JSON.stringify(response.jsonBody)).toContain('c0ffee');
    expect(h.lines.filter((e) => e.event === 'request.failed')).toHaveLength(1);
    expect(h.amended.map((a) => a.status)).toEqual([500]);
  });

  it('still answers that work\'s error when the record could not be written, or not rewritten; each failure is a warning', async () => {
    for (const failure of [{ recordFails: true }, { amendFails: true }]) {
      const h = harness(failure);
      const handler = answering201ThenFailing(h, new ServiceError('Unauthorized', 'The access token is not valid.'));
      h.recordGate.resolve();
      const response = await call(handler);
      expect(response.status, JSON.stringify(failure)).toBe(401);
      expect(h.lines.filter((e) => e.event === 'operation_log.write_failed'), JSON.stringify(failure)).toHaveLength(1);
      expect(h.steps.includes('record amended'), JSON.stringify(failure)).toBe(failure.amendFails === true);
    }
  });

});
