/**
 * Process plumbing for the benchmark: free loopback ports, child processes we own (and only
 * those are ever killed, by pid), and RSS/CPU sampling of a process tree from /proc.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export { freePort } from '../../test/helpers/ports';

const owned = new Set<ChildProcess>();

/** Spawns a child we own; `killOwned` ends it on exit or failure. */
export function spawnOwned(cmd: string, args: string[], opts: SpawnOptions): ChildProcess {
  const child = spawn(cmd, args, { ...opts, detached: false });
  owned.add(child);
  child.once('exit', () => owned.delete(child));
  return child;
}

/** Stops one child: SIGTERM, then SIGKILL after `graceMs`. Its own children go with it (the server supervises its workers). */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const tree = child.pid ? descendants(child.pid) : [];
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
  if (done) return;
  child.kill('SIGKILL');
  // Workers of a killed supervisor: only pids that were its children a moment ago.
  for (const pid of tree) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** Kills every child still running (exit/interrupt path). */
export function killOwned(): void {
  for (const c of owned) if (c.exitCode === null && c.pid) c.kill('SIGKILL');
}

/** Runs a command to completion and returns its exit code and output. */
export async function runCommand(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawnOwned(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => void (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => void (stderr += d.toString()));
  const code = await new Promise<number>((r) => child.once('exit', (c) => r(c ?? 1)));
  return { code, stdout, stderr };
}

/** Every descendant pid of `pid` (children, grandchildren…), read from /proc. */
export function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = byParent.get(ppid) ?? [];
      list.push(Number(name));
      byParent.set(ppid, list);
    } catch {
      /* exited while we looked */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of byParent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

const CLK_TCK = 100;

/** CPU seconds (utime + stime) from the text of a `/proc/…/stat` file. */
function cpuOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident memory of one pid in bytes (0 when it is gone). */
export function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** RSS (bytes) and cumulative CPU time (seconds) of one pid; null when it is gone. */
function readProc(pid: number): { rss: number; cpu: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { rss: rssKb * 1024, cpu: cpuOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8')) };
  } catch {
    return null;
  }
}

/**
 * CPU seconds each thread of `pid` has used so far, by thread name (`comm`; threads sharing a
 * name, like Bun's workers, are numbered in the order /proc lists them).
 */
export function threadCpu(pid: number): { threads: Map<string, number> } {
  const threads = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    /* gone */
  }
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const base = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    let name = base;
    for (let i = 2; threads.has(name); i++) name = `${base} ${i}`;
    threads.set(name, cpuOfStat(stat));
  }
  return { threads };
}

/** Per thread, CPU seconds used between two `threadCpu` readings (threads that used some). */
export function threadCpuBetween(before: ReturnType<typeof threadCpu>, after: ReturnType<typeof threadCpu>): [string, number][] {
  return [...after.threads].map(([name, secs]) => [name, secs - (before.threads.get(name) ?? 0)] as [string, number])
    .filter(([, secs]) => secs > 0).sort((a, b) => b[1] - a[1]);
}

export interface ProcStats {
  /** Peak summed RSS of the tree while sampling, MiB. */
  peak_rss_mib: number;
  /** RSS when sampling began, MiB. */
  start_rss_mib: number;
  /** Peak minus start, MiB. */
  rss_growth_mib: number;
  /** CPU used over the window as % of one core (200 = two cores busy). */
  cpu_pct: number;
  /** CPU seconds used over the window (every thread of the tree). */
  cpu_s: number;
  samples: number;
}

/** Samples the summed RSS and CPU of `pid` and its descendants every `everyMs` until `stop()`. */
export function sampleTree(pid: number, everyMs = 100): { stop(): ProcStats } {
  const read = () => {
    let rss = 0;
    let cpu = 0;
    for (const p of [pid, ...descendants(pid)]) {
      const s = readProc(p);
      if (s) {
        rss += s.rss;
        cpu += s.cpu;
      }
    }
    return { rss, cpu };
  };
  const first = read();
  const t0 = performance.now();
  let peak = first.rss;
  let samples = 1;
  let lastCpu = first.cpu;
  const timer = setInterval(() => {
    const s = read();
    peak = Math.max(peak, s.rss);
    lastCpu = Math.max(lastCpu, s.cpu);
    samples++;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const end = read();
      peak = Math.max(peak, end.rss);
      const secs = (performance.now() - t0) / 1000;
      const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;
      return {
        peak_rss_mib: mib(peak),
        start_rss_mib: mib(first.rss),
        rss_growth_mib: mib(peak - first.rss),
        cpu_pct: secs > 0 ? Math.round(((Math.max(end.cpu, lastCpu) - first.cpu) / secs) * 100) : 0,
        cpu_s: Math.round((Math.max(end.cpu, lastCpu) - first.cpu) * 1000) / 1000,
        samples: samples + 1,
      };
    },
  };
}

/**
 * Waits until `pid`'s tree uses less than `belowPct` % of a core over a 300 ms window (queued
 * transforms from an overload scenario finishing), at most `maxMs`, so the next scenario
 * does not inherit the previous one's work.
 */
export async function waitIdle(pid: number, maxMs = 8_000, belowPct = 30): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < maxMs) {
    const s = sampleTree(pid, 1000);
    await Bun.sleep(300);
    if (s.stop().cpu_pct < belowPct) break;
  }
  return Date.now() - started;
}

/**
 * Waits until `pid`'s tree is idle (`waitIdle`) and its RSS has stopped moving (less than 1 MiB
 * over 500 ms), at most `maxMs`. A server that has just begun to listen is still settling: its
 * start-up garbage is collected and lazily loaded code arrives over the next seconds, and the
 * RSS moved by -110 to +45 MiB in that time on this VM (docs/TUNING.md, "Storage"). Growth
 * measured from then on is the work's, not the start's. Returns the settled RSS in MiB.
 */
export async function waitSettled(pid: number, maxMs = 15_000): Promise<number> {
  const started = Date.now();
  const tree = () => [pid, ...descendants(pid)].reduce((sum, p) => sum + rssOf(p), 0) / 2 ** 20;
  let last = tree();
  while (Date.now() - started < maxMs) {
    await waitIdle(pid, Math.max(0, maxMs - (Date.now() - started)));
    await Bun.sleep(500);
    const now = tree();
    if (Math.abs(now - last) < 1) return Math.round(now * 10) / 10;
    last = now;
  }
  return Math.round(last * 10) / 10;
}
