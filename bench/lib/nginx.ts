// The proxy baseline of issue 12: nginx `proxy_pass` with keep-alive upstream
// connections in front of the same node, with a private configuration and
// prefix under a temporary directory. One worker process, as the gateway is one
// Node process. Missing nginx is reported, never guessed: those rows say
// "not measured".
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Cleanup } from './cleanup.ts'
import { freePort, waitForPort } from './services.ts'

export const NGINX_BINARY = process.env.BENCH_NGINX ?? '/usr/sbin/nginx'
export const NGINX_INSTALL_HINT = 'install Debian\'s nginx-light (apt-get install nginx-light) or set BENCH_NGINX to an nginx binary'

export interface NginxProxy {
  readonly url: string
  /** The master process (its worker is found by parent pid). */
  readonly pid: number
}

export function nginxAvailable(): boolean {
  try {
    accessSync(NGINX_BINARY, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function configuration(prefix: string, port: number, upstream: URL): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  client_max_body_size 8m;
  keepalive_requests 1000000;
  upstream region_node {
    server ${upstream.hostname}:${upstream.port};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://region_node;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }
  }
}
`
}

/** nginx in front of `upstream`, stopped at cleanup. Throws when the binary is missing (check nginxAvailable first). */
export async function startNginx(cleanup: Cleanup, upstream: string): Promise<NginxProxy> {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'scimgate-bench-nginx-'))
  cleanup.teardown(() => rmSync(prefix, { recursive: true, force: true }))
  // nginx started as root runs its worker as nobody, which must reach the temporary directories.
  chmodSync(prefix, 0o755)
  for (const dir of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(prefix, dir), { mode: 0o777 })
  const port = await freePort()
  writeFileSync(path.join(prefix, 'nginx.conf'), configuration(prefix, port, new URL(upstream)))
  const child: ChildProcess = spawn(NGINX_BINARY, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')], { stdio: ['ignore', 'ignore', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  cleanup.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGQUIT: graceful stop of master and worker.
      child.kill('SIGQUIT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
  })
  await Promise.race([waitForPort(port, 10_000), exited.then(() => Promise.reject(new Error(`nginx exited at start (see ${prefix}/error.log)`)))])
  return { url: `http://127.0.0.1:${port}`, pid: child.pid! }
}
