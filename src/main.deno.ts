/** Deno entry: the same app, served by Deno's built-in HTTP server (see platform/server.ts). */
import { start } from './boot.ts';

await start();
