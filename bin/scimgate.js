#!/usr/bin/env node
// Runs the TypeScript CLI directly, no build step: Node strips the types itself
// where it can (lib/typescript-runtime.js), else tsx's loader does.
import { stripsTypesNatively } from '../lib/typescript-runtime.js'

if (!stripsTypesNatively()) {
  const tsx = await import('tsx/esm/api').catch((error) => {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error
    console.error(`scimgate: Node ${process.versions.node} does not run TypeScript by itself (22.18+ and 24.3+ do): upgrade Node or install the development dependencies (tsx).`)
    process.exit(1)
  })
  tsx.register()
}
// Before anything else is imported: the instrumentations must see pg, ioredis, undici and fastify load.
await import('../lib/tracing-preload.ts')
await import('../cli/scimgate.ts')
