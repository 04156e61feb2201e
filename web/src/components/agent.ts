/**
 * A browser or app in a few words from its User-Agent ("Chrome on Windows"), for the list of
 * signed-in sessions. A dozen patterns rather than a parser library (ua-parser-js, ~20 KB): the
 * page needs one short label, and an agent it does not know is shown as it named itself.
 */
export function describeAgent(ua: string | null): string {
  if (!ua) return 'An unnamed browser or app';
  const browser = /Edg(e|A|iOS)?\//.test(ua) ? 'Edge'
    : /OPR\/|Opera/.test(ua) ? 'Opera'
      : /Firefox\/|FxiOS\//.test(ua) ? 'Firefox'
        : /Chrome\/|CriOS\//.test(ua) ? 'Chrome'
          : /Safari\//.test(ua) && /Version\//.test(ua) ? 'Safari' : null;
  const os = /iPhone/.test(ua) ? 'iPhone'
    : /iPad/.test(ua) ? 'iPad'
      : /Android/.test(ua) ? 'Android'
        : /Windows/.test(ua) ? 'Windows'
          : /CrOS/.test(ua) ? 'ChromeOS'
            : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
              : /Linux/.test(ua) ? 'Linux' : null;
  if (browser) return os ? `${browser} on ${os}` : browser;
  if (os) return `A browser on ${os}`;
  const tool = /^([\w.-]+)\/(\d[\w.]*)/.exec(ua); // curl/8.5.0, python-requests/2.31.0, okhttp/4.12.0
  if (tool) return `${tool[1]} ${tool[2]}`;
  return ua.length > 60 ? `${ua.slice(0, 60)}…` : ua;
}
