/** Deno entry: the same app, served by `Deno.serve(app.fetch)` (see platform/server.ts). */
import { start } from './boot.ts';

await start();
