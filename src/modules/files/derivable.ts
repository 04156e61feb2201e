/**
 * Types the image pipeline renders (sharp reads them; SVG only through RASTERIZE_SVG, on request):
 * these get eager derivatives and take `transformations` at upload. Other accepted images (BMP)
 * are stored and served as files: their derive job failed three times for every upload.
 */
const DERIVABLE_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/heif', 'image/heic', 'image/tiff']);
export const isDerivable = (contentType: string): boolean => DERIVABLE_TYPES.has(contentType);
