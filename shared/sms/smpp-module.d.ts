/**
 * Types for `smpp` 0.5.1 (the package ships none): the parts this app and the local SMSC use. PDU
 * fields are named as in the SMPP specification; a received PDU carries its decoded fields
 * (`short_message` as `{ udh?: Buffer[]; message: string | Buffer }`), TLVs by their names.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer } from 'node:net';

  export type PduFields = Record<string, any>;

  export class PDU {
    constructor(command: string, options?: PduFields);
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    [field: string]: any;
    isResponse(): boolean;
    response(options?: PduFields): PDU;
    toBuffer(): Buffer;
  }

  export class Session extends EventEmitter {
    socket: import('node:net').Socket;
    paused: boolean;
    send(pdu: PDU, responseCallback?: (response: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    bind_transceiver(options: PduFields, responseCallback?: (response: PDU) => void): boolean;
    enquire_link(options?: PduFields | ((response: PDU) => void), responseCallback?: (response: PDU) => void): boolean;
    unbind(options?: PduFields | ((response: PDU) => void), responseCallback?: (response: PDU) => void): boolean;
    submit_sm(options: PduFields, responseCallback?: (response: PDU) => void): boolean;
    deliver_sm(options: PduFields, responseCallback?: (response: PDU) => void): boolean;
  }

  export class Server extends NetServer {
    sessions: Session[];
  }

  export function connect(options: { host: string; port: number; tls?: boolean; rejectUnauthorized?: boolean; auto_enquire_link_period?: number }, listener?: () => void): Session;
  export function createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;

  export const ESME_ROK: number;
  export const ESME_RINVMSGLEN: number;
  export const ESME_RINVBNDSTS: number;
  export const ESME_RALYBND: number;
  export const ESME_RSYSERR: number;
  export const ESME_RINVSRCADR: number;
  export const ESME_RINVDSTADR: number;
  export const ESME_RBINDFAIL: number;
  export const ESME_RINVPASWD: number;
  export const ESME_RINVSYSID: number;
  export const ESME_RMSGQFUL: number;
  export const ESME_RTHROTTLED: number;
  export const ESME_RSUBMITFAIL: number;
  export const ESME_RX_T_APPN: number;
  export const ESME_RX_P_APPN: number;
  export const ESME_RINVDCS: number;
}
