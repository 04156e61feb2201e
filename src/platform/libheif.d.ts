/** The part of libheif-js's `HeifDecoder` wrapper the HEIC thread uses (the package types only the raw bindings). */
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
    decoder: { delete(): void } | null;
  }
  const libheif: { HeifDecoder: typeof HeifDecoder };
  export default libheif;
}
