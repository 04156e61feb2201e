/**
 * Links built on a loopback address (`http://localhost:3000`, PUBLIC_URL's default) work only on
 * the server's own machine. When the app itself is open at another address, everyone else the
 * links are given to would get an error, so the app says so and what to set. The server does not
 * guess its address from the request's Host header: that header is the client's to choose, and
 * links built from it (in emails above all) could point at someone else's site.
 */
const LOOPBACK = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** The origin of `url` when it is a loopback one and this page is not open on a loopback address; else null. */
export function unreachableBase(url: string | undefined, pageHost = location.hostname): string | null {
  if (!url || LOOPBACK.test(pageHost)) return null;
  try {
    const u = new URL(url);
    return LOOPBACK.test(u.hostname) ? u.origin : null;
  } catch {
    return null;
  }
}

export function LinkBaseNotice({ url }: { url: string | undefined }) {
  const base = unreachableBase(url);
  if (!base) return null;
  return (
    <p class="warning" role="note">
      <strong>Links to your files start with {base}</strong>, an address that only the server’s own machine can open;
      you are using Pictor at {location.origin}. Set <code>PUBLIC_URL</code> on the server (or a public URL base
      in <a href="/settings">Settings</a>) so that the links work for the people you give them to.
    </p>
  );
}
