/**
 * The baseline of bench/webhook-ingest.ts: a bare node:http server that reads the whole body and
 * answers 202, nothing else. Listens on 127.0.0.1:PORT (argv[2]) and prints `listening` when ready.
 */
import http from 'node:http';

const port = Number(process.argv[2]);
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const answer = `{"bytes":${Buffer.concat(chunks).length}}`;
    res.writeHead(202, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.listen(port, '127.0.0.1', () => {
  console.log('listening');
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
