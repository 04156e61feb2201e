/**
 * Streaming `multipart/form-data` (busboy): each file part is handed on as a web stream the
 * moment its headers arrive, with backpressure, so no part is ever held whole in memory.
 * Text fields may come before or after the files, and may repeat; the caller commits only
 * after the end. The fields an upload understands are listed in upload.ts (`UPLOAD_TEXT_FIELDS`).
 */
import busboy from 'busboy';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { validationError } from '../../errors';

export interface FilePart {
  field: string;
  filename: string | undefined;
  mimeType: string;
  stream: ReadableStream<Uint8Array>;
}

export interface MultipartOptions {
  contentType: string;
  /** busboy stops a part after this many bytes (set just above the upload limit). */
  maxPartBytes: number;
  maxFiles: number;
  onFile(part: FilePart): void;
  /** Sees each text field as it arrives; throwing stops reading and fails `done` with that error. */
  onField?(name: string, value: string): void;
}

/** Text fields the parser accepts in one body (busboy would drop the rest silently). */
const MAX_FIELDS = 64;

/**
 * A web stream over one busboy part. Cancelling it (the inspector refused the file) switches
 * the part to draining instead of destroying it, because busboy waits for every part to end.
 */
function partStream(file: Readable): ReadableStream<Uint8Array> {
  let open = true;
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        file.pause();
        file.on('data', (chunk: Buffer) => {
          if (!open) return;
          c.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((c.desiredSize ?? 0) <= 0) file.pause();
        });
        file.once('end', () => {
          if (open) c.close();
          open = false;
        });
        file.once('error', (err) => {
          if (open) c.error(err);
          open = false;
        });
      },
      pull() {
        file.resume();
      },
      cancel() {
        open = false;
        file.resume();
      },
    },
    { highWaterMark: 4 },
  );
}

/**
 * Parses the body; resolves with the text fields (every value of each, in order) once the
 * whole body has been read, rejects when the body fails (client gone, malformed). `stop()`
 * ends reading early.
 */
export function parseMultipart(body: ReadableStream<Uint8Array>, o: MultipartOptions) {
  const fields: Record<string, string[]> = {};
  const source = Readable.fromWeb(body as unknown as NodeWebReadableStream<Uint8Array>);
  const bb = busboy({
    headers: { 'content-type': o.contentType },
    limits: { files: o.maxFiles, fields: MAX_FIELDS, fieldSize: 8192, parts: o.maxFiles + MAX_FIELDS, fileSize: o.maxPartBytes },
  });
  let fail: (err: unknown) => void = () => {};
  const stop = (err: unknown) => {
    source.unpipe(bb);
    source.destroy();
    bb.destroy(err instanceof Error ? err : new Error(String(err)));
    fail(err);
  };
  const done = new Promise<Record<string, string[]>>((resolve, reject) => {
    fail = reject;
    bb.on('field', (name, value) => {
      (fields[name] ??= []).push(value);
      try {
        o.onField?.(name, value);
      } catch (err) {
        stop(err);
      }
    });
    bb.once('fieldsLimit', () => stop(validationError(`At most ${MAX_FIELDS} text fields per upload.`, [{ path: '/', message: 'too many fields' }])));
    bb.on('file', (field, file, info) => {
      o.onFile({ field, filename: info.filename, mimeType: info.mimeType, stream: partStream(file) });
    });
    bb.once('close', () => resolve(fields));
    bb.once('error', reject);
    source.once('error', (err) => {
      bb.destroy(err);
      reject(err);
    });
  });
  source.pipe(bb);
  return {
    done,
    /** Stops reading the body (e.g. a file crossed the limit) and fails `done` with `err`. */
    stop,
  };
}
