import { EdgesealError } from '../core/errors.js';

// Big-endian TPM 2.0 marshalling (Part 1 §18: all integers are big-endian, TPM2B = u16 size + bytes).
export class TpmWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  u8(v: number): this {
    return this.bytes(Uint8Array.of(v & 0xff));
  }

  u16(v: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v);
    return this.bytes(b);
  }

  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0);
    return this.bytes(b);
  }

  bytes(b: Uint8Array): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }

  // TPM2B_*: a u16 size then that many bytes.
  tpm2b(b: Uint8Array): this {
    if (b.length > 0xffff) throw new EdgesealError('INTERNAL', `TPM2B: expected at most 65535 bytes, found ${b.length}`);
    return this.u16(b.length).bytes(b);
  }

  // A TPM2B wrapping a structure (TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE, TPM2B_NV_PUBLIC).
  sized(build: (w: TpmWriter) => void): this {
    const inner = new TpmWriter();
    build(inner);
    return this.tpm2b(inner.finish());
  }

  // A u32 size then the structure (the authorization area of a command).
  sized32(build: (w: TpmWriter) => void): this {
    const inner = new TpmWriter();
    build(inner);
    const b = inner.finish();
    return this.u32(b.length).bytes(b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

// Reads a TPM response; every read is bounds-checked so a short or hostile response is an error, not a crash.
export class TpmReader {
  private off = 0;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what = 'TPM response',
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.off;
  }

  u8(field: string): number {
    this.need(1, field);
    return this.view.getUint8(this.off++);
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.view.getUint16(this.off);
    this.off += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.off);
    this.off += 4;
    return v;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.off);
    this.off += 8;
    return v;
  }

  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const b = this.buf.slice(this.off, this.off + n);
    this.off += n;
    return b;
  }

  tpm2b(field: string, max = 0xffff): Uint8Array {
    const n = this.u16(`${field}.size`);
    if (n > max) throw this.malformed(`${field}.size: expected at most ${max}, found ${n}`);
    return this.bytes(n, field);
  }

  // A TPM2B wrapping a structure: the inner reader must consume exactly `size` bytes.
  sized<T>(field: string, parse: (r: TpmReader) => T): T {
    const inner = new TpmReader(this.tpm2b(field), `${this.what} ${field}`);
    const value = parse(inner);
    inner.end();
    return value;
  }

  // Reads a u32 count and bounds it before allocating anything (a hostile count must not exhaust memory).
  count(field: string, max: number): number {
    const n = this.u32(field);
    if (n > max) throw this.malformed(`${field}: expected at most ${max}, found ${n}`);
    return n;
  }

  // Asserts nothing is left over: trailing bytes mean we and the TPM disagree on the layout.
  end(): void {
    if (this.remaining !== 0) throw this.malformed(`expected end of data, found ${this.remaining} trailing bytes`);
  }

  malformed(detail: string): EdgesealError {
    return new EdgesealError('TPM_MALFORMED_RESPONSE', `${this.what}: ${detail}`);
  }

  private need(n: number, field: string): void {
    if (this.off + n > this.buf.length) {
      throw this.malformed(`${field}: expected ${n} bytes at offset ${this.off}, found ${this.remaining}`);
    }
  }
}
