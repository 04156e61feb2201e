-- A file's width and height are its displayed size (after the EXIF orientation), as /t renders
-- it. Rows written before stored the coded size; their cached metadata knows the orientation.
-- Rows without cached metadata are put right by their derive job (files/metadata.ts).
UPDATE "files" SET "width" = "height", "height" = "width",
  "meta" = "meta" || jsonb_build_object('width', "meta"->'height', 'height', "meta"->'width')
WHERE "width" IS NOT NULL AND "height" IS NOT NULL AND "meta"->>'orientation' IN ('5', '6', '7', '8');
