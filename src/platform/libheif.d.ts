/** The part of libheif-js's embind API the HEIC thread uses (the package ships no types for it). */
declare module 'libheif-js/wasm-bundle.js' {
  interface HeifImage {
    get_width(): number;
    get_height(): number;
    is_primary(): boolean;
    /** Converts to RGBA into `target`; `done` gets it back, or null on failure. */
    display(target: { data: Uint8ClampedArray; width: number; height: number }, done: (out: { data: Uint8ClampedArray } | null) => void): void;
    free(): void;
  }
  class HeifDecoder {
    /** The file's top-level images in file order; empty when it does not parse. */
    decode(input: Uint8Array): HeifImage[];
    decoder?: { delete(): void };
  }
  const libheif: { HeifDecoder: typeof HeifDecoder };
  export default libheif;
}
