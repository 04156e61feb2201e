import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
for (const mode of ['plain', 'ip', 'plain', 'ip']) {
  const p = spawn(process.execPath, ['srv.tmp.ts', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((r) => p.stdout!.once('data', (d) => r(String(d).trim())));
  const url = `http://127.0.0.1:${port}/`;
  let n = 0, stop = false;
  const loop = async () => { while (!stop) { const r = await fetch(url); await r.arrayBuffer(); n++; } };
  setTimeout(() => (stop = true), 1000); await Promise.all(Array.from({ length: 32 }, loop)); stop = false; n = 0;
  const c0 = cpu(p.pid!);
  setTimeout(() => (stop = true), 3000); await Promise.all(Array.from({ length: 32 }, loop));
  console.log(mode, 'µs/req', (((cpu(p.pid!) - c0) * 1e6) / n).toFixed(1), n);
  p.kill();
}
