import { describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../local/queue-client.js';
import { parseTimeSpan, queueSettings } from '../../local/queue-settings.js';
import { queueConnection, validQueueName } from '../../local/queue-binding.js';

describe('queue trigger settings (host.json extensions.queues)', () => {
  it('has the host defaults', () => {
    expect(queueSettings()).toEqual({
      batchSize: 16,
      newBatchThreshold: 8,
      maxPollingIntervalMs: 60_000,
      visibilityTimeoutMs: 0,
      maxDequeueCount: 5,
      messageEncoding: 'base64',
    });
  });

  it('reads TimeSpans, case-insensitive names, and derives newBatchThreshold from batchSize', () => {
    expect(queueSettings({ BatchSize: 5, maxpollinginterval: '00:00:02', visibilityTimeout: '1.00:00:00.5', MessageEncoding: 'None' })).toEqual({
      batchSize: 5,
      newBatchThreshold: 2,
      maxPollingIntervalMs: 2000,
      visibilityTimeoutMs: 86_400_500,
      maxDequeueCount: 5,
      messageEncoding: 'none',
    });
    expect(parseTimeSpan('00:01:30.25')).toBe(90_250);
    expect(queueSettings({ newBatchThreshold: 0 }).newBatchThreshold).toBe(0);
  });

  it('refuses values the host refuses', () => {
    expect(() => queueSettings({ batchSize: 33 })).toThrow(/batchSize/);
    expect(() => queueSettings({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => queueSettings({ maxPollingInterval: '00:00:00.050' })).toThrow(/at least 100 ms/);
    expect(() => queueSettings({ maxDequeueCount: 0 })).toThrow(/maxDequeueCount/);
    expect(() => queueSettings({ messageEncoding: 'utf8' })).toThrow(/messageEncoding/);
    expect(() => queueSettings({ visibilityTimeout: 'soon' })).toThrow(/TimeSpan/);
  });
});

describe('queue connections and names', () => {
  it('reads the endpoint from QueueEndpoint or from the protocol and suffix', () => {
    const key = Buffer.from('k').toString('base64');
    expect(parseConnectionString(`AccountName=a;AccountKey=${key};QueueEndpoint=http://127.0.0.1:1/a/`).accountUrl).toBe('http://127.0.0.1:1/a');
    expect(parseConnectionString(`DefaultEndpointsProtocol=https;AccountName=a;AccountKey=${key};EndpointSuffix=core.windows.net`).accountUrl).toBe(
      'https://a.queue.core.windows.net',
    );
    expect(() => parseConnectionString('QueueEndpoint=https://a.queue.core.windows.net')).toThrow(/AccountName and AccountKey/);
  });

  it('resolves a binding connection as the host does: the setting, AzureWebJobs<name>, AzureWebJobsStorage by default', () => {
    const env = { AzureWebJobsStorage: 'default', Other: 'other', AzureWebJobsPrefixed: 'prefixed' };
    expect(queueConnection(undefined, env)).toEqual({ connectionString: 'default' });
    expect(queueConnection('', env)).toEqual({ connectionString: 'default' });
    expect(queueConnection('Other', env)).toEqual({ connectionString: 'other' });
    expect(queueConnection('Prefixed', env)).toEqual({ connectionString: 'prefixed' });
    expect(() => queueConnection('Missing', env)).toThrow(/'Missing'.*Missing__queueServiceUri/);
  });

  it('resolves an identity-based connection: __queueServiceUri, or __accountName for the public cloud, with __clientId', () => {
    expect(queueConnection(undefined, { AzureWebJobsStorage__queueServiceUri: 'https://st.queue.core.windows.net', AzureWebJobsStorage__clientId: 'c1' })).toEqual({
      queueServiceUri: 'https://st.queue.core.windows.net',
      clientId: 'c1',
    });
    expect(queueConnection('Jobs', { Jobs__accountName: 'stjobs' })).toEqual({ queueServiceUri: 'https://stjobs.queue.core.windows.net' });
    // A connection string wins, as in the host.
    expect(queueConnection(undefined, { AzureWebJobsStorage: 'cs', AzureWebJobsStorage__queueServiceUri: 'https://x' })).toEqual({ connectionString: 'cs' });
  });

  it('accepts the queue names Azure Storage accepts', () => {
    for (const name of ['abc', 'a-b-c', 'q12', 'a'.repeat(63)]) expect(validQueueName(name)).toBe(true);
    for (const name of ['ab', 'Abc', '-ab', 'ab-', 'a--b', 'a_b', 'a'.repeat(64)]) expect(validQueueName(name)).toBe(false);
  });
});
