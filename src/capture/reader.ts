/**
 * Streaming capture reader: detects pcap or pcapng from the first octets, buffers what
 * arrives (file reads or a pipe) and hands every complete packet to a visitor as a view
 * into its buffer. Memory is one buffer of at least the largest packet, never the file.
 *
 * On damage the packets before it have already been visited; then the parser's
 * `CaptureFormatError` (byte offset and block) propagates. `end()` reports a file that
 * stops inside a record.
 */
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { settleMutableFields } from '../core/object-layout.js';
import { CaptureFormatError, newPacketRecord, PcapParser, type PacketRecord } from '../wire/pcap.js';
import { PcapngParser } from '../wire/pcapng.js';

export type PacketVisitor = (p: PacketRecord) => void;

export type CaptureFormat = 'pcap' | 'pcapng';

export class CaptureReader {
  private buf = new Uint8Array(1 << 20);
  private start = 0;
  private end = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private parser: PcapParser | PcapngParser | null = null;
  private readonly record = newPacketRecord();
  private readonly visit: PacketVisitor;
  packets = 0;
  bytesIn = 0;

  constructor(visit: PacketVisitor) {
    this.visit = visit;
    // Its fields are written again later: mutable from now on (src/core/object-layout.ts).
    settleMutableFields(this);
  }

  get format(): CaptureFormat | null {
    return this.parser === null ? null : this.parser instanceof PcapParser ? 'pcap' : 'pcapng';
  }

  /** Space to read into directly (avoids a copy): returns [buffer, offset, length]. */
  reserve(min: number): [Uint8Array, number, number] {
    if (this.buf.length - this.end < min) this.compact(min);
    return [this.buf, this.end, this.buf.length - this.end];
  }

  /** `n` octets were written at the reserved place. */
  commit(n: number): void {
    this.end += n;
    this.bytesIn += n;
    this.parse();
  }

  push(chunk: Uint8Array): void {
    const [b, at] = this.reserve(chunk.length);
    b.set(chunk, at);
    this.commit(chunk.length);
  }

  /** The input is over: throws when it stopped inside a record or before any header. */
  finish(): void {
    const left = this.end - this.start;
    if (this.parser === null) {
      if (this.bytesIn === 0) throw new CaptureFormatError(0, 'file header', 'the input is empty');
      throw new CaptureFormatError(0, 'file header', `only ${left} octets: too short for a pcap or pcapng header`);
    }
    if (left > 0) throw this.parser.describeTruncation(this.buf, this.start, left, this.base + this.start);
  }

  private compact(min: number): void {
    const live = this.end - this.start;
    if (live + min > this.buf.length) {
      let size = this.buf.length;
      while (live + min > size) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(this.start, this.end));
      this.buf = next;
    } else {
      this.buf.copyWithin(0, this.start, this.end);
    }
    this.base += this.start;
    this.start = 0;
    this.end = live;
  }

  private parse(): void {
    if (this.parser === null) {
      if (this.end - this.start < 4) return;
      if (PcapParser.sniff(this.buf, this.start)) this.parser = new PcapParser();
      else if (PcapngParser.sniff(this.buf, this.start)) this.parser = new PcapngParser();
      else {
        throw new CaptureFormatError(
          this.base + this.start,
          'file header',
          'not a pcap or pcapng file (unknown magic number); write captures with tcpdump -w or dumpcap',
        );
      }
    }
    const parser = this.parser;
    const rec = this.record;
    for (;;) {
      const n = parser.next(this.buf, this.start, this.end, this.base, rec);
      if (n === 0) break;
      this.start += n;
      if (parser.produced) {
        this.packets++;
        this.visit(rec);
      }
    }
  }
}

/** A file fed to a reader one block (4 MiB unless told) at a time. */
export class FileFeeder {
  readonly reader: CaptureReader;
  private readonly fd: number;
  readonly total: number;
  private readonly block: number;
  done = 0;

  constructor(path: string, reader: CaptureReader, block = 1 << 22) {
    this.reader = reader;
    this.fd = openSync(path, 'r');
    this.total = fstatSync(this.fd).size;
    this.block = block;
  }

  /** Reads and parses the next block; false at the end of the file (the reader then finished). */
  step(): boolean {
    const [b, at, room] = this.reader.reserve(this.block);
    const n = readSync(this.fd, b, at, Math.min(room, this.block), null);
    if (n === 0) {
      this.reader.finish();
      return false;
    }
    this.done += n;
    this.reader.commit(n);
    return true;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Reads a whole file through a reader, 4 MiB at a time; `progress` gets (done, total) octets. */
export function readCaptureFile(path: string, visit: PacketVisitor, progress?: (done: number, total: number) => void): CaptureReader {
  const feeder = new FileFeeder(path, new CaptureReader(visit));
  try {
    while (feeder.step()) progress?.(feeder.done, feeder.total);
  } finally {
    feeder.close();
  }
  return feeder.reader;
}

/**
 * `readCaptureFile` letting the event loop run between blocks: what is written meanwhile
 * goes out, and a reader of the output that went away (EPIPE) is heard of at once.
 */
export async function readCaptureFileAsync(path: string, visit: PacketVisitor, progress?: (done: number, total: number) => void): Promise<CaptureReader> {
  const feeder = new FileFeeder(path, new CaptureReader(visit));
  try {
    while (feeder.step()) {
      progress?.(feeder.done, feeder.total);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    feeder.close();
  }
  return feeder.reader;
}

/** Reads a stream (stdin, a pipe) through a reader as data arrives; `afterChunk` runs after each chunk's packets. */
export async function readCaptureStream(stream: NodeJS.ReadableStream, visit: PacketVisitor, afterChunk?: () => void): Promise<CaptureReader> {
  const reader = new CaptureReader(visit);
  for await (const chunk of stream) {
    const c = chunk as Uint8Array;
    reader.push(c);
    afterChunk?.();
  }
  reader.finish();
  return reader;
}
