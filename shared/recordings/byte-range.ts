import parseRange from 'range-parser';

/**
 * What a GET with `Range` answers (RFC 9110): one satisfiable byte range is a 206 with that slice;
 * a range that starts past the end is a 416; a malformed header, a unit other than bytes, several
 * ranges that do not combine into one, or an `If-Range` that no longer matches is ignored (the whole
 * content, 200).
 */
export type RangePlan = { status: 200 } | { status: 206; start: number; end: number } | { status: 416 };

export function planRange(total: number, range: string | null, ifRange: string | null, etag: string): RangePlan {
  if (!range) return { status: 200 };
  if (ifRange !== null && ifRange !== etag) return { status: 200 };
  const parsed = parseRange(total, range, { combine: true });
  if (parsed === -1) return { status: 416 };
  if (parsed === -2 || parsed.type !== 'bytes' || parsed.length !== 1) return { status: 200 };
  const { start, end } = parsed[0]!;
  return { status: 206, start, end };
}

export const contentRange = (start: number, end: number, total: number) => `bytes ${start}-${end}/${total}`;
