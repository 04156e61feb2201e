/**
 * The request-log write buffer: the request path only pushes an entry onto a bounded array; a
 * single writer takes up to `batchSize` entries at a time and inserts them with one statement.
 * When the database is slow or down the array fills up to `capacity`, and further entries are
 * dropped and counted (never awaited, never unbounded): losing a log line is better than
 * slowing every authenticated request. A batch that failed because the database is away
 * (`retryable`) goes back to the front while there is room, and is tried again at the next
 * tick: an outage of seconds loses none of its requests' lines, the 503s people look up
 * included. Any other failure, or one while flushing, drops the batch and counts it.
 */

export interface LogBufferOptions<T> {
  capacity: number;
  /** Entries per insert. */
  batchSize?: number;
  /** Idle flush delay: a lone entry is written at most this late. */
  intervalMs?: number;
  write(batch: T[]): Promise<void>;
  /** Whether a failed write is worth trying again later (the database away). */
  retryable?(err: unknown): boolean;
  onDrop?(n: number): void;
  onWritten?(n: number): void;
  onError?(err: unknown, n: number): void;
}

export function createLogBuffer<T>(o: LogBufferOptions<T>) {
  const batchSize = o.batchSize ?? 500;
  const intervalMs = o.intervalMs ?? 1000;
  let entries: T[] = [];
  let dropped = 0;
  let writing: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;

  /**
   * Writes batches. A full batch starts a writer that goes on only while full batches are
   * waiting; the rest waits for the timer. Writing whatever piled up during the previous
   * insert instead (the obvious loop) turns a busy server's log into a trickle of tiny
   * statements, each with its own parse, plan and commit (bench/logs.sh measures what logs
   * cost). `all` (timer, flush) also writes the partial batch that was queued when it
   * started, but not what arrives after.
   */
  async function drain(all: boolean, final: boolean): Promise<void> {
    let owed = all ? entries.length : 0;
    while (entries.length >= batchSize || (owed > 0 && entries.length > 0)) {
      const batch = entries.length <= batchSize ? entries : entries.slice(0, batchSize);
      entries = entries.length <= batchSize ? [] : entries.slice(batchSize);
      owed -= batch.length;
      try {
        await o.write(batch);
        o.onWritten?.(batch.length);
      } catch (err) {
        if (!final && o.retryable?.(err) && entries.length + batch.length <= o.capacity) {
          entries = batch.concat(entries);
          break; // the timer tries again; the loop would spin against a database that is away
        }
        dropped += batch.length;
        o.onDrop?.(batch.length);
        o.onError?.(err, batch.length);
      }
    }
  }

  function schedule(): void {
    if (timer || closed || entries.length === 0) return;
    timer = setTimeout(() => void kick(true), intervalMs);
    (timer as { unref?: () => void }).unref?.();
  }

  /** Starts the writer unless it is running; when it stops, a partial batch left over waits for the timer. */
  function kick(all: boolean, final = false): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    writing ??= drain(all, final).finally(() => {
      writing = null;
      schedule();
    });
    return writing;
  }

  return {
    /** Queues one entry; O(1), never blocks. Returns false when it was dropped. */
    push(entry: T): boolean {
      if (closed || entries.length >= o.capacity) {
        dropped++;
        o.onDrop?.(1);
        return false;
      }
      entries.push(entry);
      if (writing) return true;
      if (entries.length >= batchSize) void kick(false);
      else schedule();
      return true;
    },
    /** Writes everything queued so far (and waits for a write in progress); what fails now is dropped. */
    async flush(): Promise<void> {
      while (writing || entries.length) await (writing ?? kick(true, true));
    },
    /** Flushes and refuses further entries (the shutdown step). */
    async close(): Promise<void> {
      await this.flush();
      closed = true;
    },
    size: (): number => entries.length,
    dropped: (): number => dropped,
  };
}

export type LogBuffer<T> = ReturnType<typeof createLogBuffer<T>>;
