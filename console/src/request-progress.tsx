import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, describe, downloadFile, resourcePath, saveJson } from './api';
import { FormError, formatTime } from './field';
import type { PrivacyRequest, Receipt } from './types';

const POLL_MS = 1000;
const STATUS_WORDS: Record<PrivacyRequest['status'], string> = { notStarted: 'waiting to start', running: 'running', succeeded: 'succeeded', failed: 'failed' };

/** Follows a request live (polling, no reload): status, phase, a progress bar, counts, then its result. */
export function RequestProgress({ resource, requestId, onFinished }: { resource: string; requestId: string; onFinished: () => void }) {
  const [request, setRequest] = useState<PrivacyRequest>();
  const [error, setError] = useState<string>();
  const [downloadError, setDownloadError] = useState<string>();
  const [announcement, setAnnouncement] = useState('');
  const finished = useRef(false);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let lastSaid = '';
    const poll = async () => {
      try {
        const { body } = await api<PrivacyRequest>('GET', resourcePath(resource, `/privacy/requests/${encodeURIComponent(requestId)}`));
        if (stopped) return;
        setRequest(body);
        setError(undefined);
        const said = `${body.action} request ${STATUS_WORDS[body.status]}, phase ${body.progress.phase}, ${body.progress.phasesCompleted} of ${body.progress.phasesTotal} phases done.`;
        if (said !== lastSaid) setAnnouncement((lastSaid = said));
        if (body.status === 'succeeded' || body.status === 'failed') {
          if (!finished.current) onFinished();
          finished.current = true;
          return;
        }
      } catch (failure) {
        if (stopped) return;
        setError(failure instanceof ApiError && failure.status === 404 ? failure.message : `${describe(failure)} Still trying.`);
        if (failure instanceof ApiError && failure.status === 404) return;
      }
      timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    heading.current?.focus();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [resource, requestId]);

  const downloadResult = async () => {
    setDownloadError(undefined);
    try {
      await downloadFile(resourcePath(resource, `/privacy/requests/${encodeURIComponent(requestId)}/result`), `${request!.action}-${requestId}.json`);
    } catch (failure) {
      setDownloadError(describe(failure));
    }
  };
  const downloadReceipt = async () => {
    setDownloadError(undefined);
    try {
      const { body } = await api<Receipt>('GET', resourcePath(resource, `/privacy/receipts/${encodeURIComponent(request!.result!.receiptId!)}`));
      saveJson(body, `erasure-receipt-${body.id}.json`);
    } catch (failure) {
      setDownloadError(describe(failure));
    }
  };

  const kinds = request ? Object.entries(request.counts) : [];
  return (
    <section aria-labelledby="progress-heading" class="panel" data-testid="request-progress">
      <h2 id="progress-heading" ref={heading} tabIndex={-1}>
        Request <code>{requestId}</code>
      </h2>
      <p class="visually-hidden" aria-live="polite" data-testid="progress-live">
        {announcement}
      </p>
      <FormError error={error} />
      {request && (
        <>
          <p>
            {request.action} · submitted {formatTime(request.createdDateTime)} · {request.subjects.count} subject {request.subjects.count === 1 ? 'key' : 'keys'}
          </p>
          <p class={`status ${request.status}`} data-testid="request-status">
            Status: <strong>{STATUS_WORDS[request.status]}</strong>
            {request.status !== 'succeeded' && ` · phase ${request.progress.phase}`}
            {request.progress.round ? ` · pass ${request.progress.round}` : ''}
            {request.progress.failedAttempts ? ` · ${request.progress.failedAttempts} failed attempts so far` : ''}
          </p>
          <label for="request-bar">
            Phases done: {request.progress.phasesCompleted} of {request.progress.phasesTotal}
          </label>
          <progress id="request-bar" max={request.progress.phasesTotal} value={request.progress.phasesCompleted}>
            {request.progress.phasesCompleted} of {request.progress.phasesTotal}
          </progress>
          {kinds.length > 0 && (
            <table data-testid="request-counts">
              <caption>Found so far, by kind</caption>
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Found</th>
                  {request.action === 'delete' && <th scope="col">Deleted</th>}
                  <th scope="col">Kept for a hold</th>
                </tr>
              </thead>
              <tbody>
                {kinds.map(([kind, c]) => (
                  <tr key={kind}>
                    <th scope="row">{kind}</th>
                    <td>{c.found}</td>
                    {request.action === 'delete' && <td>{c.deleted ?? 0}</td>}
                    <td>{c.held}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {request.status === 'failed' && <p class="form-error">The request failed{typeof request.error === 'object' && request.error?.message ? `: ${request.error.message}` : '.'}</p>}
          {request.status === 'succeeded' && request.result?.receiptId && (
            <button type="button" onClick={downloadReceipt}>
              Download the erasure receipt
            </button>
          )}
          {request.status === 'succeeded' && request.result?.location && (
            <button type="button" onClick={downloadResult}>
              Download the {request.action === 'export' ? 'export bundle' : 'inventory'} ({request.result.bytes} bytes, until {formatTime(request.result.expiresDateTime)})
            </button>
          )}
          <FormError error={downloadError} />
        </>
      )}
    </section>
  );
}
