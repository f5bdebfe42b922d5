// The part of hpack.js (no types of its own) that h2-authority.ts uses.
declare module 'hpack.js' {
  import type { Duplex } from 'node:stream';

  export interface HpackHeader {
    name: string;
    value: string;
    /** Literal never indexed (RFC 7541 §6.2.3): kept so sensitive headers stay out of tables downstream. */
    neverIndex?: boolean;
    huffman?: boolean;
  }

  interface HpackOptions {
    table: { maxSize: number };
  }

  export interface Decompressor extends Duplex {
    /** Decodes what was written; errors are emitted as 'error'. Reads then return one HpackHeader each. */
    execute(callback?: (error: Error | null) => void): void;
    read(): HpackHeader | null;
  }

  export interface Compressor extends Duplex {
    read(): Buffer | null;
  }

  const hpack: {
    decompressor: { create(options: HpackOptions): Decompressor };
    compressor: { create(options: HpackOptions): Compressor };
  };
  export default hpack;
}
