/**
 * Streaming `multipart/form-data` (busboy): each file part is handed on as a web stream the
 * moment its headers arrive, with backpressure, so no part is ever held whole in memory.
 * Text fields may come before or after the files, and may repeat; the caller commits only
 * after the end. The fields an upload understands are listed in upload.ts (`UPLOAD_TEXT_FIELDS`).
 */
import busboy from 'busboy';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { AppError, validationError } from '../../errors';

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
/** Longest text field value (busboy would cut it silently). */
const MAX_FIELD_BYTES = 8192;

/** 400 for a body that is not well-formed multipart, with the parser's reason. */
function malformed(err: unknown, hint?: string): AppError {
  if (err instanceof AppError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  const message = `Malformed multipart/form-data body: ${reason}${hint ? ` (${hint})` : ''}.`;
  return validationError(message, [{ path: '/', message: reason }]);
}

/** A part handed on and not yet ended: `fail` errors its stream (the request was stopped). */
type LivePart = { fail(err: unknown): void };

/**
 * A web stream over one busboy part. Cancelling it (the inspector refused the file) switches
 * the part to draining instead of destroying it, because busboy waits for every part to end.
 * While it is open it sits in `live`, so stopping the request can fail it: a part whose end
 * the destroyed parser will never see must not leave its consumer waiting for ever (it would
 * hold an open temp file until the GC closed it, which Bun treats as a fatal error).
 */
function partStream(file: Readable, live: Set<LivePart>): ReadableStream<Uint8Array> {
  let open = true;
  let entry: LivePart | null = null;
  const finish = () => {
    open = false;
    if (entry) live.delete(entry);
  };
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        entry = {
          fail(err) {
            if (open) c.error(err);
            finish();
            file.resume(); // drained, never read again
          },
        };
        live.add(entry);
        file.pause();
        file.on('data', (chunk: Buffer) => {
          if (!open) return;
          c.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((c.desiredSize ?? 0) <= 0) file.pause();
        });
        file.once('end', () => {
          if (open) c.close();
          finish();
        });
        file.once('error', (err) => {
          if (open) c.error(err);
          finish();
        });
      },
      pull() {
        file.resume();
      },
      cancel() {
        finish();
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
  // No prototype: a field named `constructor` or `__proto__` is an unknown field like any other.
  const fields: Record<string, string[]> = Object.create(null);
  const source = Readable.fromWeb(body as unknown as NodeWebReadableStream<Uint8Array>);
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: { 'content-type': o.contentType },
      // Browsers and curl send file names as raw UTF-8 (WHATWG form-data); busboy's default reads latin1.
      defParamCharset: 'utf8',
      limits: { files: o.maxFiles, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: o.maxFiles + MAX_FIELDS, fileSize: o.maxPartBytes },
    });
  } catch (err) {
    // No or an empty boundary: nothing can be parsed.
    throw malformed(err, 'the Content-Type needs a boundary: multipart/form-data; boundary=…');
  }
  let fail: (err: unknown) => void = () => {};
  /** The body itself failed (client gone): not the client's malformed form, so not a 400. */
  let sourceFailed = false;
  let stopped = false;
  const live = new Set<LivePart>();
  /** No more parts or fields are handed on, and every part still open fails with `err`. */
  const halt = (err: unknown) => {
    stopped = true;
    for (const part of [...live]) part.fail(err);
  };
  const stop = (err: unknown) => {
    source.unpipe(bb);
    source.destroy();
    bb.destroy(err instanceof Error ? err : new Error(String(err)));
    halt(err);
    fail(err);
  };
  const done = new Promise<Record<string, string[]>>((resolve, reject) => {
    fail = reject;
    // Busboy goes on parsing the chunk it holds after `destroy`, so parts and fields may still
    // arrive once the request was stopped: they are not handed on (a late part would never end).
    // A part without `name=` reached the code below as `undefined` (a TypeError's words in the 400).
    const unnamed = () => stop(validationError(
      'A multipart part has no name: each needs `Content-Disposition: form-data; name="…"` (`file` or `image` for files).',
      [{ path: '/', message: 'part without a name' }],
    ));
    bb.on('field', (name, value, info) => {
      if (stopped) return;
      if (typeof name !== 'string') return unnamed();
      if (info.nameTruncated || info.valueTruncated) {
        return stop(validationError(`A text field is longer than ${MAX_FIELD_BYTES} bytes.`, [{ path: `/${name.slice(0, 64)}`, message: 'too long' }]));
      }
      (fields[name] ??= []).push(value);
      try {
        o.onField?.(name, value);
      } catch (err) {
        stop(err);
      }
    });
    bb.once('fieldsLimit', () => stop(validationError(`At most ${MAX_FIELDS} text fields per upload.`, [{ path: '/', message: 'too many fields' }])));
    // Busboy would drop the parts beyond its limits without a word: the whole request is refused
    // instead, and the caller discards the files already staged, so nothing is kept.
    bb.once('filesLimit', () => stop(validationError(
      o.maxFiles === 1 ? 'One file per request: this upload takes a single file part.' : `At most ${o.maxFiles} files per request; send the others in further requests.`,
      [{ path: '/file', message: `more than ${o.maxFiles} file part${o.maxFiles === 1 ? '' : 's'}` }],
    )));
    bb.once('partsLimit', () => stop(validationError(
      `At most ${o.maxFiles + MAX_FIELDS} parts per request.`,
      [{ path: '/', message: 'too many parts' }],
    )));
    bb.on('file', (field, file, info) => {
      if (stopped) return void file.resume();
      if (typeof field !== 'string') {
        // Destroyed with the request by `stop`: an 'error' nobody listens to would end the process.
        file.on('error', () => {});
        file.resume();
        return unnamed();
      }
      o.onFile({ field, filename: info.filename, mimeType: info.mimeType, stream: partStream(file, live) });
    });
    bb.once('close', () => resolve(fields));
    // Busboy's own errors are about the body's form ('Unexpected end of form', 'Malformed part header').
    // `on`, not `once`: after `stop()` destroyed it, busboy may still emit a parse error of the
    // bytes it holds, and an 'error' nobody listens to crashes the process (found by the fuzz test).
    // Busboy is not destroyed by its own parse error and the body stops flowing to it (unpiped), so
    // nothing after the error could ever end: the request ends here like a stopped one.
    bb.on('error', (err) => {
      const e = sourceFailed ? err : malformed(err);
      halt(e);
      reject(e);
    });
    source.on('error', (err) => {
      sourceFailed = true;
      bb.destroy(err);
      halt(err);
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
