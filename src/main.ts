/** Bun entry: `bun src/main.ts` (what `npm start` runs). */
import { start } from './boot';

await start();
