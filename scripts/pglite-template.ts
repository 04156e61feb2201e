/**
 * Builds the embedded database's template for the installed PGlite (src/db/pglite-template.ts),
 * so that a fresh DATA_DIR skips initdb. Run by `npm install` (prepare) and `npm test`; does
 * nothing when it exists.
 */
import { buildPgliteTemplate, pgliteTemplateDir } from '../src/db/pglite-template';

if (await buildPgliteTemplate()) console.log(`pglite-template: built ${pgliteTemplateDir()}`);
process.exit(0);
