/**
 * A request's path segments as sent, not percent-decoded. The router decodes route parameters
 * once, the transformation parser decodes a step once more (parse.ts `parseStep`), and a `txt_`
 * text is decoded for its own `,` `/` `%`: a text written as TRANSFORMS.md says (`%252C`, encoded
 * twice) lost its comma to the parameter split, and its signature (made over the URL's form)
 * never matched. The transformation routes read their steps from here instead.
 */
import { pathOf } from '../../lib/request-path';

export const rawSegments = (url: string): string[] => pathOf(url).split('/').slice(1);
