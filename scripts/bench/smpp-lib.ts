// The `smpp` package (0.5.1) as the benchmarks use it. src/types/smpp.d.ts declares only its tables,
// so the session/server surface the benchmarks need is typed here.
import type net from 'node:net';
import smppModule from 'smpp';

export interface SmppPduObject {
  command: string;
  command_status: number;
  sequence_number: number;
  toBuffer(): Buffer;
  response(options?: Record<string, unknown>): SmppPduObject;
  [field: string]: unknown;
}

export type SmppCallback = (pdu: SmppPduObject) => void;

export interface SmppSessionObject {
  socket: net.Socket;
  // biome-ignore lint/suspicious/noExplicitAny: the package's events carry different arguments each
  on(event: string, listener: (...args: any[]) => void): this;
  send(pdu: SmppPduObject, responseCallback?: SmppCallback): boolean;
  bind_transceiver(options: Record<string, unknown>, responseCallback: SmppCallback): boolean;
  submit_sm(options: Record<string, unknown>, responseCallback: SmppCallback): boolean;
  unbind(options: Record<string, unknown>, responseCallback: SmppCallback): boolean;
  close(callback?: () => void): void;
  destroy(callback?: () => void): void;
}

export interface SmppLib {
  PDU: {
    new (command: string, options: Record<string, unknown>): SmppPduObject;
    new (buffer: Buffer): SmppPduObject;
  };
  createServer(listener: (session: SmppSessionObject) => void): net.Server;
  connect(options: { url: string }, listener?: () => void): SmppSessionObject;
}

export const smpp = smppModule as unknown as SmppLib;
