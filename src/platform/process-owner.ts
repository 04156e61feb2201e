/**
 * Which process owns a temp file, for cleaning up after crashes without touching the files of
 * a live process that shares the directory (WORKERS=N, or a second container on the same
 * volume). The owner is `<host>~<pid>`, where host also names the PID namespace on Linux: two
 * containers may share a hostname (host networking) but never a PID namespace, and a pid only
 * means something inside its own namespace.
 */
import { readlinkSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';

function hostTag(): string {
  let ns = '';
  try {
    // `pid:[4026531836]` → `4026531836`
    ns = readlinkSync('/proc/self/ns/pid').replace(/\D/g, '');
  } catch {
    /* not Linux, or /proc not readable: the hostname alone */
  }
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
  return ns ? `${host}.${ns}` : host;
}

/** This host (and PID namespace), as written in owner tags; never contains `~`. */
export const HOST_TAG = hostTag();

/** The owner tag of this process: `<host>~<pid>`. */
export const ownTag = (): string => `${HOST_TAG}~${process.pid}`;

/** The `<host>` and pid of an owner tag, or null when `tag` is not one. */
export function parseOwnerTag(tag: string): { host: string; pid: number } | null {
  const m = /^([^~]+)~(\d+)$/.exec(tag);
  return m ? { host: m[1]!, pid: Number(m[2]) } : null;
}

/**
 * Whether a process with this pid runs in this PID namespace. Only a definite "no such process"
 * counts as dead: a process of another user (EPERM), or a runtime that cannot ask, counts as
 * alive, so its files are left to the age-based sweep.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Kills (SIGKILL) the ffmpeg/ffprobe processes whose command line names one of `paths` or a file
 * under it: the children a crashed process left writing its temp files. Nothing else stops them: ffmpeg
 * ignores the closed pipes of a dead parent and would run a long transcode to its end, next to
 * the retry of the same job. Linux only (`/proc`); elsewhere none are found. Returns how many.
 */
export async function killProcessesNaming(paths: readonly string[]): Promise<number> {
  if (paths.length === 0) return 0;
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid);
  } catch {
    return 0;
  }
  let killed = 0;
  for (const pid of pids) {
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    // Only the programs Pictor starts: not an operator's `tail` of the same file.
    if (!/ff(mpeg|probe)[^/]*$/.test(args[0] ?? '')) continue;
    if (!args.some((arg) => paths.some((p) => arg === p || arg.startsWith(`${p}/`)))) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      /* gone meanwhile, or another user's */
    }
  }
  return killed;
}
