import { t } from 'elysia';

export const Liveness = t.Object({
  status: t.Literal('ok'),
  version: t.String(),
  uptime_s: t.Number({ description: 'Seconds since this process started.' }),
});

const Check = t.Object({
  status: t.Union([t.Literal('ok'), t.Literal('degraded'), t.Literal('down'), t.Literal('disabled')]),
  latency_ms: t.Number(),
  error: t.Optional(t.String()),
  free_bytes: t.Optional(t.Number({ description: 'Storage on local disk: free bytes of its file system (`degraded` below `MIN_FREE_DISK`).' })),
  total_bytes: t.Optional(t.Number({ description: 'Storage on local disk: size of its file system.' })),
});

export const ReadinessSchema = t.Object({
  status: t.Union([t.Literal('ok'), t.Literal('degraded'), t.Literal('down')], {
    description: '`down` (503) when the database or storage fails; `degraded` when only Redis does, or local storage has less free space than `MIN_FREE_DISK`.',
  }),
  checks: t.Object({ database: Check, redis: Check, storage: Check }),
});
