// Splits a byte stream into whole PDUs. A PDU that lies inside one chunk is handed out in place
// (no copy); only a PDU that spans chunks is copied, once, into a buffer of its exact size.
import { FramingError } from './errors.js';
import { DEFAULT_MAX_PDU_SIZE, HEADER_SIZE } from './codec.js';

/** Receives each whole PDU as `buf[start .. start + length)`. */
export type FrameHandler = (buf: Buffer, start: number, length: number) => void;

export class Framer {
  /** Bytes of a PDU that started in an earlier chunk. */
  private partial: Buffer | undefined;
  private filled = 0;
  /** Up to 3 bytes of a length prefix cut by a chunk boundary. */
  private prefix = Buffer.alloc(4);
  private prefixLen = 0;

  constructor(private readonly maxSize = DEFAULT_MAX_PDU_SIZE) {}

  /** Bytes held that belong to an unfinished PDU. */
  get buffered(): number {
    return this.partial ? this.filled : this.prefixLen;
  }

  /**
   * Feeds one chunk, calling `onFrame` for each PDU it completes, in order. Throws FramingError
   * when a command_length is outside 16..maxSize: the stream cannot be split any further.
   */
  push(chunk: Buffer, onFrame: FrameHandler): void {
    let p = 0;
    const end = chunk.length;
    if (this.prefixLen > 0) {
      const take = Math.min(4 - this.prefixLen, end);
      chunk.copy(this.prefix, this.prefixLen, 0, take);
      this.prefixLen += take;
      p = take;
      if (this.prefixLen < 4) return;
      this.prefixLen = 0;
      this.partial = Buffer.allocUnsafe(this.checkLength(this.prefix.readUInt32BE(0)));
      this.prefix.copy(this.partial, 0, 0, 4);
      this.filled = 4;
    }
    if (this.partial !== undefined) {
      const need = this.partial.length - this.filled;
      const take = Math.min(need, end - p);
      chunk.copy(this.partial, this.filled, p, p + take);
      this.filled += take;
      p += take;
      if (this.filled < this.partial.length) return;
      const whole = this.partial;
      this.partial = undefined;
      this.filled = 0;
      onFrame(whole, 0, whole.length);
    }
    while (end - p >= 4) {
      const len = this.checkLength(chunk.readUInt32BE(p));
      if (end - p < len) {
        this.partial = Buffer.allocUnsafe(len);
        this.filled = chunk.copy(this.partial, 0, p, end);
        return;
      }
      onFrame(chunk, p, len);
      p += len;
    }
    if (p < end) {
      this.prefixLen = chunk.copy(this.prefix, 0, p, end);
    }
  }

  private checkLength(len: number): number {
    if (len < HEADER_SIZE || len > this.maxSize) {
      throw new FramingError(`command_length ${len} is outside ${HEADER_SIZE}..${this.maxSize}`, len);
    }
    return len;
  }
}
