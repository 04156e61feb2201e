/** A small Server-Sent-Events reader for tests: parses `id`/`event`/`data` blocks and comments. */
export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

export interface SseReader {
  events: SseEvent[];
  comments: string[];
  /** Reads until `pred` holds for the events so far, or throws after `timeoutMs`. */
  until(pred: (events: SseEvent[], comments: string[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function readSse(body: ReadableStream<Uint8Array>): SseReader {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let buffer = '';
  let pending: ReturnType<typeof reader.read> | null = null;

  const parse = () => {
    let sep: number;
    while ((sep = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, sep);
      buffer = buffer.slice(sep + 2);
      let id: string | null = null;
      let event = 'message';
      const data: string[] = [];
      let any = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comments.push(line.slice(1).trim());
        else if (line.startsWith('id: ')) (id = line.slice(4)), (any = true);
        else if (line.startsWith('event: ')) (event = line.slice(7)), (any = true);
        else if (line.startsWith('data: ')) data.push(line.slice(6)), (any = true);
      }
      if (any && data.length) events.push({ id, event, data: data.join('\n') });
    }
  };

  return {
    events,
    comments,
    async until(pred, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(events, comments)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`SSE: condition not met; have ${events.length} events: ${events.map((e) => e.event).join(',')}`);
        pending ??= reader.read();
        const r = await Promise.race([pending, new Promise<null>((res) => setTimeout(() => res(null), left))]);
        if (r === null) continue;
        pending = null;
        if (r.done) throw new Error('SSE stream ended');
        buffer += decoder.decode(r.value, { stream: true });
        parse();
      }
    },
    async close() {
      await reader.cancel().catch(() => {});
    },
  };
}
