/**
 * How a message travels over SMPP: GSM 03.38 (the 7-bit default alphabet, `data_coding` 0x00, one
 * septet per octet as SMPP carries it) when every character has a GSM code, UCS-2 (`data_coding`
 * 0x08, UTF-16 big-endian) otherwise. A message longer than one SMS (160 septets / 70 UCS-2 units)
 * is cut into concatenated segments of 153 septets / 67 units, each carrying a User Data Header
 * (`esm_class` UDHI 0x40) with IEI 0x00: an 8-bit reference, the segment count and the segment's
 * number. A GSM escape pair or a UTF-16 surrogate pair is never split between segments.
 */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** The extension table: each is sent as ESC (0x1B) and this code. */
const GSM_EXTENSION: Record<string, number> = { '\f': 0x0a, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2f, '[': 0x3c, '~': 0x3d, ']': 0x3e, '|': 0x40, '€': 0x65 };

const BASIC_CODE = new Map([...GSM_BASIC].map((ch, code) => [ch, code]));
BASIC_CODE.delete('\x1b');
const EXTENSION_CHAR = new Map(Object.entries(GSM_EXTENSION).map(([ch, code]) => [code, ch]));

export const DATA_CODING = { gsm7: 0x00, ucs2: 0x08 } as const;
export type SmsEncoding = keyof typeof DATA_CODING;

export const ESM_CLASS_UDHI = 0x40;
const SINGLE = { gsm7: 160, ucs2: 70 } as const;
const PER_SEGMENT = { gsm7: 153, ucs2: 67 } as const;
/** The most segments one message may take (the UDH counts them in one octet). */
export const MAX_SEGMENTS = 255;

/** Whether every character of the text has a GSM 03.38 code (basic or extension table). */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (!BASIC_CODE.has(ch) && GSM_EXTENSION[ch] === undefined) return false;
  return true;
}

/** The septets of a GSM 03.38 text, one per octet (extension characters take two). */
export function encodeGsm7(text: string): Buffer {
  const septets: number[] = [];
  for (const ch of text) {
    const basic = BASIC_CODE.get(ch);
    if (basic !== undefined) septets.push(basic);
    else if (GSM_EXTENSION[ch] !== undefined) septets.push(0x1b, GSM_EXTENSION[ch]);
    else throw new Error('The text has a character without a GSM 03.38 code.');
  }
  return Buffer.from(septets);
}

export function decodeGsm7(bytes: Buffer): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 1) {
    const code = bytes[i]! & 0x7f;
    if (code === 0x1b && i + 1 < bytes.length) {
      i += 1;
      text += EXTENSION_CHAR.get(bytes[i]! & 0x7f) ?? ' ';
    } else {
      text += GSM_BASIC[code] ?? ' ';
    }
  }
  return text;
}

export function encodeUcs2(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

export function decodeUcs2(bytes: Buffer): string {
  const copy = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)));
  return copy.swap16().toString('utf16le');
}

export interface EncodedSegment {
  /** The User Data Header (empty for a single-part message). */
  udh: Buffer;
  /** The payload after the UDH. */
  payload: Buffer;
}

export interface EncodedMessage {
  encoding: SmsEncoding;
  dataCoding: number;
  segments: EncodedSegment[];
}

/** Splits text into the units of its encoding (GSM: a character and its escape; UCS-2: a code point). */
function units(text: string, encoding: SmsEncoding): { text: string; size: number }[] {
  return [...text].map((ch) => ({ text: ch, size: encoding === 'gsm7' ? (BASIC_CODE.has(ch) ? 1 : 2) : ch.length }));
}

/**
 * The segments of a message: one without a UDH when it fits one SMS, else concatenated segments
 * sharing `reference` (0-255). Throws when it would need more than MAX_SEGMENTS.
 */
export function encodeMessage(text: string, reference: number): EncodedMessage {
  const encoding: SmsEncoding = isGsm7(text) ? 'gsm7' : 'ucs2';
  const encode = encoding === 'gsm7' ? encodeGsm7 : encodeUcs2;
  const parts = units(text, encoding);
  const total = parts.reduce((sum, unit) => sum + unit.size, 0);
  if (total <= SINGLE[encoding]) return { encoding, dataCoding: DATA_CODING[encoding], segments: [{ udh: Buffer.alloc(0), payload: encode(text) }] };
  const texts: string[] = [];
  let current = '';
  let size = 0;
  for (const unit of parts) {
    if (size + unit.size > PER_SEGMENT[encoding]) {
      texts.push(current);
      current = '';
      size = 0;
    }
    current += unit.text;
    size += unit.size;
  }
  texts.push(current);
  if (texts.length > MAX_SEGMENTS) throw new Error(`The message needs ${texts.length} segments; at most ${MAX_SEGMENTS} are possible.`);
  const ref = reference & 0xff;
  return {
    encoding,
    dataCoding: DATA_CODING[encoding],
    segments: texts.map((part, index) => ({ udh: Buffer.from([0x05, 0x00, 0x03, ref, texts.length, index + 1]), payload: encode(part) })),
  };
}

/** How many segments a message takes (what ACS reports as `segmentCount`). */
export function segmentCount(text: string): number {
  return encodeMessage(text, 0).segments.length;
}

export interface ConcatenationInfo {
  reference: number;
  total: number;
  sequence: number;
}

/**
 * The concatenation information element of a User Data Header (IEI 0x00, 8-bit reference, or IEI
 * 0x08, 16-bit reference), given the header's information elements as `smpp` decodes them (each
 * `[iei, length, ...data]`), or undefined when there is none.
 */
export function concatenationOf(elements: readonly Buffer[]): ConcatenationInfo | undefined {
  for (const element of elements) {
    if (element[0] === 0x00 && element[1] === 3 && element.length >= 5) return { reference: element[2]!, total: element[3]!, sequence: element[4]! };
    if (element[0] === 0x08 && element[1] === 4 && element.length >= 6) return { reference: element.readUInt16BE(2), total: element[4]!, sequence: element[5]! };
  }
  return undefined;
}
