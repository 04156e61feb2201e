/**
 * Builds the embedded database's template for the installed PGlite (src/db/pglite-template.ts),
 * so that a fresh DATA_DIR skips initdb. Run by `npm install` (prepare) and `npm test`; does
 * nothing when it exists. A failure only warns: without the template a first start runs initdb.
 */
import { buildPgliteTemplate, pgliteTemplateDir } from '../src/db/pglite-template';

try {
  if (await buildPgliteTemplate()) console.log(`pglite-template: built ${pgliteTemplateDir()}`);
} catch (err) {
  console.warn(`pglite-template: not built (${(err as Error).message}); a fresh DATA_DIR will run initdb instead`);
}
process.exit(0);
