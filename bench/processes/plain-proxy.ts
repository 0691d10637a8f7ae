// The baseline proxy: a default-configured @fastify/http-proxy in front of the same node.
import httpProxy from '@fastify/http-proxy'
import Fastify from 'fastify'
import { announceReady, exitOnSignal, readConfig } from './ready.ts'

const options = readConfig<{ upstream: string }>()
const app = Fastify({ logger: false })
await app.register(httpProxy, { upstream: options.upstream, prefix: '/scim/v2', rewritePrefix: '/scim/v2' })
const url = await app.listen({ host: '127.0.0.1', port: 0 })
exitOnSignal(() => app.close())
announceReady({ url })
