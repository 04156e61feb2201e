/** Request and response schemas of `/api/queue` (API.md §8). */
import { t } from 'elysia';

const Timestamp = t.String({ format: 'date-time' });

export const JobStatusSchema = t.Union([
  t.Literal('pending'), t.Literal('running'), t.Literal('completed'), t.Literal('failed'), t.Literal('cancelled'),
]);

export const JobSchema = t.Object(
  {
    id: t.String({ format: 'uuid' }),
    type: t.String({ examples: ['derive'] }),
    status: JobStatusSchema,
    priority: t.Integer({ description: 'Higher runs first.' }),
    attempts: t.Integer(),
    max_attempts: t.Integer(),
    progress: t.Integer({ minimum: 0, maximum: 100 }),
    payload: t.Record(t.String(), t.Unknown()),
    last_error: t.Nullable(t.String()),
    file_id: t.Nullable(t.String()),
    user_id: t.Nullable(t.String({ format: 'uuid' })),
    cancel_requested: t.Boolean({ description: 'A cancel was asked for; a running job stops at its next check.' }),
    created_at: Timestamp,
    started_at: t.Nullable(Timestamp),
    finished_at: t.Nullable(Timestamp),
    run_at: t.String({ format: 'date-time', description: 'Not before this time (retries are delayed with exponential backoff).' }),
  },
  { title: 'Job' },
);

/** A job with its file's name, as the list and `GET /jobs/:id` give it. */
export const JobListItem = t.Composite([JobSchema, t.Object({
  file_name: t.Nullable(t.String({ description: 'The name of the file the job is about (`file_id`), for people reading the list; null without a file.' })),
})], { title: 'JobInList' });

export const JobList = t.Object({
  results: t.Array(JobListItem),
  count: t.Integer({ description: 'Jobs matching the filter, all pages.' }),
  next_cursor: t.Nullable(t.String()),
});

const SystemFilter = t.Optional(t.Boolean({
  description: 'For admins: `false` leaves out the server\'s own housekeeping jobs (those of no account: `expire` every minute, `prune`), '
    + '`true` shows only them; absent, both. Other accounts never see those jobs.',
}));

export const StatsQuery = t.Object({ system: SystemFilter });

export const JobListQuery = t.Object({
  status: t.Optional(JobStatusSchema),
  type: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  system: SystemFilter,
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: t.Optional(t.String({ maxLength: 200 })),
});

const Counts = {
  pending: t.Integer(),
  running: t.Integer(),
  completed: t.Integer(),
  failed: t.Integer(),
  cancelled: t.Integer(),
};

export const QueueStats = t.Object({
  ...Counts,
  by_type: t.Record(t.String(), t.Object(Counts), { description: 'The same counts per job type.' }),
});

export const JobIdParams = t.Object({ id: t.String({ format: 'uuid' }) });

export const EventsQuery = t.Object({
  last_event_id: t.Optional(t.String({ maxLength: 40, description: 'Same as the `Last-Event-ID` header, for clients that cannot set headers.' })),
});
