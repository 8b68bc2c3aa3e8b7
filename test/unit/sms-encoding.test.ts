import { describe, expect, it } from 'vitest';
import { concatenationOf, decodeGsm7, decodeUcs2, encodeGsm7, encodeMessage, isGsm7, segmentCount } from '../../shared/sms/sms-encoding.js';
import { parseSmsCarriers } from '../../shared/config/sms-settings.js';
import { keywordOf } from '../../shared/sms/opt-out-keywords.js';
import { capabilityWithin, normalizeNumber } from '../../shared/phone-numbers/pool-number.js';

describe('GSM 03.38 and UCS-2', () => {
  it('codes the basic and extension tables, one septet per octet, ESC before an extension character', () => {
    expect([...encodeGsm7('@£$A a\n')]).toEqual([0x00, 0x01, 0x02, 0x41, 0x20, 0x61, 0x0a]);
    expect([...encodeGsm7('€[]{}~^|\\\f')]).toEqual([0x1b, 0x65, 0x1b, 0x3c, 0x1b, 0x3e, 0x1b, 0x28, 0x1b, 0x29, 0x1b, 0x3d, 0x1b, 0x14, 0x1b, 0x40, 0x1b, 0x2f, 0x1b, 0x0a]);
    expect(decodeGsm7(encodeGsm7('Grüße aus Köln: 5€ [ok]'))).toBe('Grüße aus Köln: 5€ [ok]');
    expect(isGsm7('Grüße 5€')).toBe(true);
    expect(isGsm7('Grüße 🙂')).toBe(false);
    expect(isGsm7('ç')).toBe(false); // lower-case c-cedilla has no GSM code (only Ç)
    expect(() => encodeGsm7('ç')).toThrow();
  });

  it('UCS-2 is UTF-16 big-endian', () => {
    expect([...encodeMessage('Ω🙂', 0).segments[0]!.payload]).toEqual([0x03, 0xa9, 0xd8, 0x3d, 0xde, 0x42]);
    expect(decodeUcs2(Buffer.from([0x03, 0xa9, 0xd8, 0x3d, 0xde, 0x42]))).toBe('Ω🙂');
  });
});

describe('segments', () => {
  it('one SMS up to 160 septets (GSM) or 70 units (UCS-2), no UDH', () => {
    expect(encodeMessage('a'.repeat(160), 7)).toEqual({ encoding: 'gsm7', dataCoding: 0, segments: [{ udh: Buffer.alloc(0), payload: Buffer.from('a'.repeat(160)) }] });
    expect(encodeMessage('€'.repeat(80), 7).segments).toHaveLength(1);
    expect(encodeMessage('ж'.repeat(70), 7)).toMatchObject({ encoding: 'ucs2', dataCoding: 8 });
    expect(encodeMessage('ж'.repeat(70), 7).segments).toHaveLength(1);
  });

  it('concatenated: 153 septets or 67 units per segment, UDH 05 00 03 ref total seq', () => {
    const gsm = encodeMessage('a'.repeat(161), 0x2a);
    expect(gsm.segments.map((s) => s.udh.toString('hex'))).toEqual(['0500032a0201', '0500032a0202']);
    expect(gsm.segments.map((s) => s.payload.length)).toEqual([153, 8]);
    const ucs = encodeMessage('ж'.repeat(135), 300);
    expect(ucs.segments.map((s) => s.udh.toString('hex'))).toEqual(['0500032c0301', '0500032c0302', '0500032c0303']);
    expect(ucs.segments.map((s) => s.payload.length / 2)).toEqual([67, 67, 1]);
    expect(segmentCount('a'.repeat(306))).toBe(2);
    expect(segmentCount('a'.repeat(307))).toBe(3);
  });

  it('never splits an escape pair or a surrogate pair', () => {
    const gsm = encodeMessage('a'.repeat(152) + '€' + 'b'.repeat(10), 1);
    expect(gsm.segments.map((s) => s.payload.length)).toEqual([152, 12]);
    expect(gsm.segments[1]!.payload[0]).toBe(0x1b);
    const ucs = encodeMessage('ж'.repeat(66) + '🙂' + 'ж'.repeat(10), 1);
    expect(ucs.segments.map((s) => s.payload.length / 2)).toEqual([66, 12]);
    expect(decodeUcs2(ucs.segments[1]!.payload)).toBe('🙂' + 'ж'.repeat(10));
  });

  it('reads the concatenation element (8- and 16-bit references)', () => {
    expect(concatenationOf([Buffer.from([0x00, 0x03, 0x2a, 0x02, 0x01])])).toEqual({ reference: 0x2a, total: 2, sequence: 1 });
    expect(concatenationOf([Buffer.from([0x08, 0x04, 0x01, 0x02, 0x03, 0x02])])).toEqual({ reference: 0x0102, total: 3, sequence: 2 });
    expect(concatenationOf([Buffer.from([0x24, 0x01, 0x01])])).toBeUndefined();
  });
});

describe('SMPP carrier settings', () => {
  it('one carrier per SMPP_*__<GEO>[__<CARRIER>] group, with SMPP 3.4 length limits, problems named by setting', () => {
    const { carriers, problems } = parseSmsCarriers({
      SMPP_HOST__EUROPE: 'smsc.example.eu',
      SMPP_SYSTEM_ID__EUROPE: 'acs-eu',
      SMPP_PASSWORD__EUROPE: 'secret',
      SMPP_HOST__EUROPE__BACKUP: 'smsc2.example.eu',
      SMPP_PORT__EUROPE__BACKUP: '2776',
      SMPP_SYSTEM_ID__EUROPE__BACKUP: 'acs-eu-2',
      SMPP_TLS__EUROPE__BACKUP: 'true',
      SMPP_HOST__JAPAN: 'smsc.example.jp',
      SMPP_SYSTEM_ID__JAPAN: 'a-system-id-too-long',
      SMPP_HOST__ATLANTIS: 'x',
    });
    expect(carriers).toEqual({
      europe: {
        default: { host: 'smsc.example.eu', port: 2775, systemId: 'acs-eu', password: 'secret', systemType: '', tls: false },
        backup: { host: 'smsc2.example.eu', port: 2776, systemId: 'acs-eu-2', password: '', systemType: '', tls: true },
      },
    });
    expect(problems).toEqual([
      'SMPP_HOST__ATLANTIS: ATLANTIS is not a geography key (AFRICA, ASIAPACIFIC, AUSTRALIA, BRAZIL, CANADA, EUROPE, FRANCE, GERMANY, INDIA, JAPAN, KOREA, NORWAY, SWITZERLAND, UAE, UK, UNITEDSTATES)',
      'SMPP_SYSTEM_ID__JAPAN must be at most 15 characters (SMPP 3.4)',
    ]);
  });
});

describe('keywords, capabilities, numbers', () => {
  it('matches a whole-message keyword in any case, nothing else', () => {
    expect(keywordOf(' stop ')).toBe('optOut');
    expect(keywordOf('Unsubscribe')).toBe('optOut');
    expect(keywordOf('START')).toBe('optIn');
    expect(keywordOf('unstop')).toBe('optIn');
    expect(keywordOf('help')).toBe('help');
    expect(keywordOf('please stop')).toBeUndefined();
    expect(keywordOf('stopp')).toBeUndefined();
  });

  it('a capability asks for no more than offered', () => {
    expect(capabilityWithin('outbound', 'inbound+outbound')).toBe(true);
    expect(capabilityWithin('none', 'none')).toBe(true);
    expect(capabilityWithin('inbound+outbound', 'outbound')).toBe(false);
    expect(capabilityWithin('inbound', 'none')).toBe(false);
  });

  it('a route number with or without its plus', () => {
    expect(normalizeNumber('+14255550123')).toBe('+14255550123');
    expect(normalizeNumber('14255550123')).toBe('+14255550123');
    expect(normalizeNumber('+0425')).toBeUndefined();
    expect(normalizeNumber('+1 425')).toBeUndefined();
  });
});
