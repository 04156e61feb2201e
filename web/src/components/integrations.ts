/**
 * The files the integrations page hands out, built in the browser from a key it has just made
 * through the public API: a ShareX custom uploader (`.sxcu`, ShareX ≥ 14 syntax with
 * `{json:…}` paths into the upload's JSON answer) and a bash script for Flameshot or any file
 * (curl; jq when present). Both upload with `POST /api/files` multipart, field `file`.
 */

export interface ToolOptions {
  /** Where the server is, as this browser reached it. */
  origin: string;
  key: string;
  keyName: string;
  folder: string;
  isPublic: boolean;
}

/** The details page of an uploaded file: where it is deleted (ShareX opens it in the browser). */
const detailsUrl = (origin: string, id: string) => `${origin}/files/${id}`;

export function sharexConfig(o: ToolOptions): string {
  const host = new URL(o.origin).host;
  return `${JSON.stringify(
    {
      Version: '15.0.0',
      Name: `Pictor (${host})`,
      DestinationType: 'ImageUploader, FileUploader',
      RequestMethod: 'POST',
      RequestURL: `${o.origin}/api/files`,
      Headers: { Authorization: `Bearer ${o.key}` },
      Body: 'MultipartFormData',
      Arguments: { folder: o.folder, is_public: String(o.isPublic) },
      FileFormName: 'file',
      URL: '{json:file.url}',
      DeletionURL: detailsUrl(o.origin, '{json:file.id}'),
      ErrorMessage: '{json:message}',
    },
    null,
    2,
  )}\n`;
}

/** Single-quoted for bash: the only character to escape inside is the quote itself. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function flameshotScript(o: ToolOptions): string {
  return `#!/usr/bin/env bash
# Upload a screenshot (or any file) to Pictor at ${o.origin} and print its link.
#
#   pictor-upload.sh            take a screenshot with \`flameshot gui\` and upload it
#   pictor-upload.sh FILE       upload FILE
#
# Bind the first form to a key (e.g. Print) in your desktop's keyboard settings. The link is
# copied to the clipboard when wl-copy, xclip or xsel is installed. Needs bash and curl.
# It carries the API key "${o.keyName.replace(/[\r\n]/g, ' ')}" (scope files:write: it can upload, nothing else);
# revoke it at ${o.origin}/keys if this file is lost.
set -euo pipefail

PICTOR_URL=\${PICTOR_URL:-${sq(o.origin)}}
PICTOR_KEY=\${PICTOR_KEY:-${sq(o.key)}}
PICTOR_FOLDER=\${PICTOR_FOLDER:-${sq(o.folder)}}
PICTOR_PUBLIC=\${PICTOR_PUBLIC:-${o.isPublic ? 'true' : 'false'}}

shot=""
trap 'if [ -n "$shot" ]; then rm -f "$shot"; fi' EXIT
if [ $# -ge 1 ]; then
  file=$1
else
  command -v flameshot >/dev/null || { echo "flameshot is not installed: pass a file to upload instead" >&2; exit 2; }
  shot=$(mktemp "\${TMPDIR:-/tmp}/pictor-XXXXXX.png")
  flameshot gui --raw >"$shot"
  [ -s "$shot" ] || { echo "Screenshot cancelled." >&2; exit 1; }
  file=$shot
fi
[ -f "$file" ] || { echo "No such file: $file" >&2; exit 2; }

# The key goes in a header read from stdin, so it never shows in the process list.
if ! response=$(printf 'Authorization: Bearer %s\\n' "$PICTOR_KEY" | curl -sS --fail-with-body -H @- \\
    -F "file=@\\"$file\\"" --form-string "folder=$PICTOR_FOLDER" --form-string "is_public=$PICTOR_PUBLIC" \\
    "$PICTOR_URL/api/files"); then
  echo "Upload failed: $response" >&2
  exit 1
fi

if command -v jq >/dev/null; then
  url=$(jq -r '.file.url' <<<"$response")
  id=$(jq -r '.file.id' <<<"$response")
else
  url=$(grep -o '"url":"[^"]*"' <<<"$response" | head -n1 | cut -d'"' -f4)
  id=$(grep -o '"id":"[^"]*"' <<<"$response" | head -n1 | cut -d'"' -f4)
fi
[ -n "$url" ] || { echo "Unexpected answer: $response" >&2; exit 1; }

echo "$url"
echo "Delete it at: $PICTOR_URL/files/$id" >&2
if command -v wl-copy >/dev/null && [ -n "\${WAYLAND_DISPLAY:-}" ]; then printf '%s' "$url" | wl-copy
elif command -v xclip >/dev/null && [ -n "\${DISPLAY:-}" ]; then printf '%s' "$url" | xclip -selection clipboard
elif command -v xsel >/dev/null && [ -n "\${DISPLAY:-}" ]; then printf '%s' "$url" | xsel --clipboard --input
fi
if command -v notify-send >/dev/null && [ -n "\${DISPLAY:-}\${WAYLAND_DISPLAY:-}" ]; then notify-send "Uploaded to Pictor" "$url" || true; fi
`;
}

/** Saves text as a file through the browser's download. */
export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
