import { Elysia } from 'elysia';
import type { AppDeps } from '../../deps';
import { Liveness, ReadinessSchema } from './model';
import { checkReadiness } from './service';

export function healthRoutes(deps: AppDeps) {
  return new Elysia({ name: 'pictor.health', detail: { tags: ['health'] } })
    .get(
      '/health',
      () => ({ status: 'ok' as const, version: deps.version, uptime_s: Math.round((Date.now() - deps.startedAt) / 1000) }),
      { response: { 200: Liveness }, detail: { summary: 'Liveness', description: 'No I/O: answers while the process is alive.' } },
    )
    .get(
      '/health/ready',
      async ({ set }) => {
        const readiness = await checkReadiness(deps);
        if (readiness.status === 'down') set.status = 503;
        return readiness;
      },
      {
        response: { 200: ReadinessSchema, 503: ReadinessSchema },
        detail: { summary: 'Readiness', description: 'Checks the database, Redis and storage, each with its latency.' },
      },
    );
}
