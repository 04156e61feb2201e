/**
 * Routes of chained transformations (parse.ts, chain.ts): `/t/<step>/<step>[/…]/<id>` and the
 * signed `/authenticated/s--<sig>/<step>/<step>[/…]/<id>`, 2 to MAX_CHAIN_STEPS steps. The
 * last path segment is always the file (`<id>[.<ext>]`); every segment before it is a step.
 * One route per length (not a wildcard) so each has named parameters in the OpenAPI document.
 * The router wants one name per path position across routes, so the names are positional and
 * continue the single-step route's: `{transformations}/{file}/{s3}/…/{sN}` — in a chain
 * `{file}` is the second step and the last segment is the file. The steps are joined with `/`
 * into the one transformation string the single-step handler takes, which is also exactly what
 * a signature covers (`<steps>/<id>`).
 */
import { Elysia, t, type TSchema } from 'elysia';
import { invalidTransformation, notFound, type AppError } from '../../errors';
import { MAX_CHAIN_STEPS } from './parse';

type Handle = (request: Request, set: { headers: Record<string, unknown> }, params: { transformations: string; file: string }, signature?: string) => Promise<Response>;

type Ctx = { request: Request; set: { headers: Record<string, unknown> }; params: unknown };

/** 400 for a chain before `remote/`: a remote source takes one transformation segment. */
export const remoteChain = (value: string) =>
  invalidTransformation('transformations', 'one segment before remote/ (a remote source takes no chain of steps)', value);

/** The names of the n + 1 segments of an n-step chain, by position. */
const segmentNames = (n: number) => ['transformations', 'file', ...Array.from({ length: n - 1 }, (_, i) => `s${i + 3}`)];

export function chainRoutes(handle: Handle, response: Record<number, TSchema>) {
  let app = new Elysia({ name: 'pictor.transform.chains' });
  for (let n = 2; n <= MAX_CHAIN_STEPS; n++) {
    const names = segmentNames(n);
    const path = names.map((k) => `:${k}`).join('/');
    const params = t.Object(Object.fromEntries(names.map((k, i) => [k, t.String({
      description: i === n ? 'The file id, optionally with an output extension: `abc123XyZ9.webp`.' : `Step ${i + 1} of the chain: comma-separated \`key_value\` parameters.`,
    })])));
    // The document's names (openapi-contract.ts `renamePathParams`): `{step1}/…/{stepN}/{file}`.
    const shown = Object.fromEntries(names.map((k, i) => [k, i === n ? 'file' : `step${i + 1}`]));
    const join = (p: Record<string, string>) => {
      const segments = names.map((k) => p[k] as string);
      // `/t/<step>/<step>/remote/<url>` lands here ("remote" a step, the URL the file): a 404 "File not found" said nothing.
      const remote = segments.indexOf('remote');
      if (remote >= 0 && remote < n) throw remoteChain(segments.slice(0, remote).join('/'));
      return { transformations: segments.slice(0, -1).join('/'), file: segments[n] as string };
    };
    const unsigned = ({ request, set, params: p }: Ctx) => handle(request, set, join(p as Record<string, string>));
    const unsignedDoc = (head: boolean) => ({
      params,
      response,
      detail: {
        tags: ['transformations'],
        summary: `Chained transformation of a public file (${n} steps)${head ? ' (headers)' : ''}`,
        description: 'Steps separated by `/` applied in order, each with its own options (TRANSFORMS.md, "Chains"); the last segment is the file. '
          + 'Output keys (f, q, d, w_auto, dpr_auto) belong to the last step. Otherwise as `/t/{transformations}/{file}`.',
        'x-path-names': shown,
      },
    });
    const signed = ({ request, set, params: p }: Ctx) => {
      const sig = (p as Record<string, string>).signature as string;
      if (!sig.startsWith('s--')) throw notFound('File');
      return handle(request, set, join(p as Record<string, string>), sig.slice(3));
    };
    const signedDoc = (head: boolean) => ({
      params: t.Object({ signature: t.String({ description: '`s--<signature>` over `<steps joined by />/<file>`.' }), ...params.properties }),
      response,
      detail: {
        tags: ['transformations'],
        summary: `Chained transformation through a signed URL (${n} steps)${head ? ' (headers)' : ''}`,
        description: 'The signature covers the whole chain and the file (`<step>/<step>/…/<file>`).',
        'x-path-names': shown,
      },
    });
    app = app
      .get(`/t/${path}`, unsigned, unsignedDoc(false))
      .head(`/t/${path}`, unsigned, unsignedDoc(true))
      .get(`/authenticated/:signature/${path}`, signed, signedDoc(false))
      .head(`/authenticated/:signature/${path}`, signed, signedDoc(true)) as unknown as typeof app;
  }
  return app;
}

/**
 * Why a `/t/…` or `/authenticated/s--…/…` path matched no route, when it is the transformation's
 * fault: an empty step (`/t//<id>`) or more steps than a chain may have. Both were a bare 404
 * "No route", where the grammar promises 400 `INVALID_TRANSFORMATION`.
 */
export function chainPathProblem(request: Request, path: string): AppError | undefined {
  if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
  const parts = path.split('/').slice(1);
  const from = parts[0] === 't' ? 1 : parts[0] === 'authenticated' && parts[1]?.startsWith('s--') ? 2 : -1;
  if (from < 0 || parts.length < from + 2 || parts.at(-1) === '' || parts.includes('remote')) return undefined;
  const steps = parts.slice(from, -1);
  if (steps.includes('')) return invalidTransformation('transformations', 'steps joined by a single "/" (this one is empty)', path);
  if (steps.length > MAX_CHAIN_STEPS) return invalidTransformation('transformations', `a chain of at most ${MAX_CHAIN_STEPS} steps joined by "/"`, `${steps.length} steps`);
  return undefined;
}
