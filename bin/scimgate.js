#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx's loader); no build step needed.
import { register } from 'tsx/esm/api'

register()
// Before anything else is imported: the instrumentations must see pg, ioredis, undici and fastify load.
await import('../lib/tracing-preload.ts')
await import('../cli/scimgate.ts')
