#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx's loader); no build step needed.
import { register } from 'tsx/esm/api'

register()
await import('../cli/scimgate.ts')
