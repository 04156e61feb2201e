import { t } from 'elysia';

export const Liveness = t.Object({
  status: t.Literal('ok'),
  version: t.String(),
  uptime_s: t.Number({ description: 'Seconds since this process started.' }),
});

const Check = t.Object({
  status: t.Union([t.Literal('ok'), t.Literal('down'), t.Literal('disabled')]),
  latency_ms: t.Number(),
  error: t.Optional(t.String()),
});

export const ReadinessSchema = t.Object({
  status: t.Union([t.Literal('ok'), t.Literal('degraded'), t.Literal('down')], {
    description: '`down` (503) when the database or storage fails; `degraded` when only Redis does.',
  }),
  checks: t.Object({ database: Check, redis: Check, storage: Check }),
});
