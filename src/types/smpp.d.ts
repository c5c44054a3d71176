// The `smpp` package ships no types. We use it for its definition tables (and as a test oracle),
// so only the table shapes are declared here.
declare module 'smpp' {
  export interface SmppType {
    read(buffer: Buffer, offset: number, length?: number): unknown;
    write(value: unknown, buffer: Buffer, offset: number): void;
    size(value: unknown): number;
    default: unknown;
  }
  export interface SmppParam {
    type: SmppType;
    default?: unknown;
    filter?: unknown;
  }
  export interface SmppCommand {
    id: number;
    command: string;
    params?: Record<string, SmppParam>;
    tlvMap?: Record<string, string>;
  }
  export interface SmppTlv {
    id: number;
    tag: string;
    type: SmppType;
    multiple?: boolean;
    filter?: unknown;
  }
  export interface SmppPdu {
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    command_length: number;
    toBuffer(): Buffer;
    [key: string]: unknown;
  }
  interface SmppModule {
    commands: Record<string, SmppCommand>;
    commandsById: Record<number, SmppCommand>;
    tlvs: Record<string, SmppTlv>;
    tlvsById: Record<number, SmppTlv>;
    errors: Record<string, number>;
    consts: Record<string, Record<string, number>>;
    types: Record<string, SmppType> & { tlv: Record<string, SmppType> };
    PDU: {
      new (command: string, options?: Record<string, unknown>): SmppPdu;
      new (buffer: Buffer): SmppPdu;
      maxLength: number;
    };
    createServer(options: Record<string, unknown>, listener?: (session: unknown) => void): import('node:net').Server;
    // biome-ignore lint/suspicious/noExplicitAny: used only as the differential oracle, through its untyped API
    connect(options: Record<string, unknown>, listener?: () => void): any;
    // biome-ignore lint/suspicious/noExplicitAny: as above
    Session: any;
  }
  const smpp: SmppModule;
  export default smpp;
}
