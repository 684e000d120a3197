// Serves the chat example and the browser bundle on http://127.0.0.1:8080 (PORT to change),
// after bringing up the local Prosody. Run from the repository root: `pnpm chat`.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = fileURLToPath(new URL('.', import.meta.url));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

/** A request handler for the chat page and the bundle (also used by the browser test). */
export function handler() {
  return async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = url.pathname.startsWith('/xmppkit.min.js')
      ? join(root, 'packages/client/dist', url.pathname.slice(1))
      : join(dir, normalize(url.pathname === '/' ? 'index.html' : url.pathname).replace(/^(\.\.[/\\])+/, ''));
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (spawnSync('bash', ['scripts/prosody.sh', 'up'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
  const port = Number(process.env.PORT ?? 8080);
  createServer(handler()).listen(port, '127.0.0.1', () => {
    console.log(`chat example: http://127.0.0.1:${port}/  (log in as alice/alice-secret, talk to bob@localhost)`);
  });
}
