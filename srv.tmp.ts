const useIp = process.argv[2] === 'ip';
const body = new Uint8Array(8000);
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch(req, srv) { let h: string | undefined; if (useIp) h = srv.requestIP(req)?.address; return new Response(body, { headers: { 'x-ip': h ?? '-' } }); } });
console.log(server.port);
