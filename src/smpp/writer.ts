// Outgoing bytes: every PDU written in one event-loop turn goes out in one socket write, and a
// socket whose buffer is above the high-water mark stops reading until it drains (so a peer that
// never reads cannot make us buffer our answers to its requests without bound). The mark is checked
// on every write, not only at the end of the turn: one turn may read megabytes of requests (libuv
// reads a socket many times per poll), and reading must pause as soon as the answers pass the mark.
import type { Socket } from 'node:net';

export class CoalescingWriter {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;
  private blocked = false;
  private readonly flushBound = () => this.flush();

  constructor(
    private readonly socket: Socket,
    private readonly highWaterMark: number,
    /** Called when writing becomes blocked (true) or possible again (false). */
    private readonly onBlocked: (blocked: boolean) => void,
  ) {
    socket.on('drain', () => {
      if (!this.blocked || this.socket.writableLength > this.highWaterMark) return;
      this.blocked = false;
      if (!socket.destroyed) socket.resume();
      this.onBlocked(false);
    });
  }

  /** True while the socket holds more unsent bytes than the high-water mark. */
  get isBlocked(): boolean {
    return this.blocked;
  }

  /** Bytes queued here and in the socket, not yet handed to the kernel. */
  get pendingBytes(): number {
    return this.bytes + this.socket.writableLength;
  }

  write(buf: Buffer): void {
    this.chunks.push(buf);
    this.bytes += buf.length;
    if (!this.blocked && this.bytes + this.socket.writableLength > this.highWaterMark) {
      this.flush(); // hand it over now: the socket decides whether we are blocked
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushBound);
    }
  }

  /** Hands everything queued to the socket now. */
  flush(): void {
    this.scheduled = false;
    if (this.chunks.length === 0) return;
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
    this.chunks = [];
    this.bytes = 0;
    if (this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(data);
    // writableNeedDrain: a 'drain' event is sure to come and lift the block.
    if (!this.blocked && this.socket.writableLength > this.highWaterMark && this.socket.writableNeedDrain) {
      this.blocked = true;
      this.socket.pause();
      this.onBlocked(true);
    }
  }
}
