// A raw SMPP peer on a plain net.Socket: writes whatever bytes a test gives it and reads back whole
// PDUs with the project's own Framer and decode. No session logic: it answers nothing by itself.
// Every wait is bounded; close is observed (with whether it was a reset).
import net from 'node:net';
import { decode, encode } from '../../src/smpp/codec.js';
import { Framer } from '../../src/smpp/framer.js';
import type { Pdu, PduInput } from '../../src/smpp/pdu.js';

export const DEFAULT_WAIT_MS = 5_000;

/** What the peer saw of the connection's end. */
export interface CloseInfo {
  /** The socket error before the close (ECONNRESET for a reset), if any. */
  error: string | undefined;
  /** The server half-closed (FIN) before the socket closed. */
  gotEnd: boolean;
}

type Item = { pdu: Pdu } | { error: Error };
type Waiter = (item: Item | undefined) => void;

export class RawPeer {
  /** Every PDU received, in order (also those already taken with next()). */
  readonly received: Pdu[] = [];
  readonly closed: Promise<CloseInfo>;
  private readonly queue: Item[] = [];
  private waiter: Waiter | undefined;
  private readonly framer = new Framer();
  private error: string | undefined;
  private gotEnd = false;
  private isClosedFlag = false;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosedFlag = true;
        const w = this.waiter;
        this.waiter = undefined;
        w?.(undefined);
        resolve({ error: this.error, gotEnd: this.gotEnd });
      });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.error ??= err.code ?? err.message;
    });
    socket.on('end', () => {
      this.gotEnd = true;
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        this.framer.push(chunk, (buf, start, length) => {
          // decode hands out views into buf: copy, so that kept PDUs do not pin whole chunks.
          const own = Buffer.from(buf.subarray(start, start + length));
          let item: Item;
          try {
            item = { pdu: decode(own) };
            this.received.push(item.pdu);
          } catch (err) {
            item = { error: new Error(`peer sent an undecodable PDU ${own.toString('hex')}: ${(err as Error).message}`) };
          }
          this.deliver(item);
        });
      } catch (err) {
        this.deliver({ error: new Error(`peer broke framing: ${(err as Error).message}`) });
        socket.destroy();
      }
    });
  }

  /** Connects to `port` on 127.0.0.1; rejects after `timeoutMs`. */
  static connect(port: number, host = '127.0.0.1', timeoutMs = DEFAULT_WAIT_MS): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get isClosed(): boolean {
    return this.isClosedFlag;
  }

  /** PDUs received and not yet taken. */
  get queued(): number {
    return this.queue.length;
  }

  /** Writes raw bytes, or the encoding of a PDU. Resolves once handed to the kernel (or buffered and drained). */
  send(data: Buffer | PduInput): Promise<void> {
    const bytes = Buffer.isBuffer(data) ? data : encode(data);
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed || !this.socket.writable) return reject(new Error('socket is closed'));
      this.socket.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** The next PDU; rejects if none comes within `timeoutMs`, or the connection closes first. */
  async next(timeoutMs = DEFAULT_WAIT_MS): Promise<Pdu> {
    const got = await this.nextOrClose(timeoutMs);
    if (got === 'closed') throw new Error(`connection closed while waiting for a PDU (${JSON.stringify({ error: this.error, gotEnd: this.gotEnd })})`);
    return got;
  }

  /** The next PDU, or 'closed' if the connection closes with nothing more queued. Rejects on timeout. */
  nextOrClose(timeoutMs = DEFAULT_WAIT_MS): Promise<Pdu | 'closed'> {
    const item = this.queue.shift();
    if (item !== undefined) return 'error' in item ? Promise.reject(item.error) : Promise.resolve(item.pdu);
    if (this.isClosedFlag) return Promise.resolve('closed');
    if (this.waiter !== undefined) return Promise.reject(new Error('RawPeer: one next() at a time'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no PDU within ${timeoutMs} ms (received so far: ${this.received.map((p) => p.command).join(', ') || 'none'})`));
      }, timeoutMs);
      this.waiter = (it) => {
        clearTimeout(timer);
        this.waiter = undefined;
        if (it === undefined) resolve('closed');
        else if ('error' in it) reject(it.error);
        else resolve(it.pdu);
      };
    });
  }

  /** Resolves with how the connection ended; rejects if it is still open after `timeoutMs`. */
  waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<CloseInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.closed, timeout]).finally(() => clearTimeout(timer));
  }

  /** Sends a request and returns the next PDU (asserting nothing about it). */
  async request(pdu: PduInput, timeoutMs = DEFAULT_WAIT_MS): Promise<Pdu> {
    await this.send(pdu);
    return this.next(timeoutMs);
  }

  /** Binds (transceiver by default) and returns the response, whatever its status. */
  bind(
    system_id: string,
    password: string,
    command: 'bind_transceiver' | 'bind_transmitter' | 'bind_receiver' = 'bind_transceiver',
    sequence_number = 1,
  ): Promise<Pdu> {
    return this.request({ command, sequence_number, system_id, password, interface_version: 0x34 });
  }

  /** Half-closes our side. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private deliver(item: Item): void {
    const w = this.waiter;
    if (w !== undefined) w(item);
    else this.queue.push(item);
  }
}
