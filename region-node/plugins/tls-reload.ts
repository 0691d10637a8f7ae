// Serves a renewed certificate without a restart: cert-manager (or ops)
// replaces the files of the mounted Secret, and new TLS connections get the
// new certificate within one interval. A pair that cannot be read or does not
// match is logged and the current one kept.
import { readFile } from 'node:fs/promises'
import type { Server as TlsServer } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { NodeTlsConfig } from '../../config/node-config.ts'

export const tlsReload = fp(
  async (app: FastifyInstance, tls: NodeTlsConfig) => {
    if (tls.reloadIntervalMs === 0) return
    const server = app.server as unknown as TlsServer
    let current = { cert: tls.cert, key: tls.key }
    let reading = false
    const check = async (): Promise<void> => {
      const [cert, key] = await Promise.all([readFile(tls.certFile, 'utf8'), readFile(tls.keyFile, 'utf8')])
      if (cert === current.cert && key === current.key) return
      // Throws when the key does not match the certificate (files caught mid-update): tried again next time.
      server.setSecureContext({ cert, key, minVersion: 'TLSv1.2' })
      current = { cert, key }
      app.log.info({ certFile: tls.certFile }, 'serving a renewed TLS certificate')
    }
    const timer = setInterval(() => {
      if (reading) return
      reading = true
      check()
        .catch((error: unknown) => app.log.warn({ err: error, certFile: tls.certFile }, 'could not load the TLS certificate files; keeping the current certificate'))
        .finally(() => {
          reading = false
        })
    }, tls.reloadIntervalMs)
    timer.unref()
    app.addHook('onClose', async () => clearInterval(timer))
  },
  { name: 'tls-reload' },
)
