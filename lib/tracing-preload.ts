// Starts tracing before the application is imported, so the instrumentations
// patch pg, ioredis, undici and fastify as they load. bin/scimgate.js imports
// it first; another entry point can preload it (Node 22.18+/24.3+; older ones add `--import tsx/esm` first):
//   node --import ./lib/tracing-preload.ts entry.ts
// With tracing off (the default) it loads nothing of the OpenTelemetry SDK.
import { isTracingEnabled, tracingServiceName } from '../config/tracing-settings.ts'
import { startTracing } from './tracing.ts'

/** `scimgate gateway` → scimgate-gateway, `scimgate node` → scimgate-node; OTEL_SERVICE_NAME wins. */
function serviceNameOf(argv: readonly string[]): string {
  const command = argv.slice(2).find((arg) => !arg.startsWith('-'))
  return command === 'gateway' || command === 'node' ? `scimgate-${command}` : 'scimgate'
}

/** A node's region (`--region EU1`, `-r EU1`, `--region=EU1`, else SCIMGATE_REGION), so each node's spans say which region served them. */
function regionOf(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string | undefined {
  const args = argv.slice(2)
  if (!args.includes('node')) return undefined
  for (const [index, arg] of args.entries()) {
    if (arg.startsWith('--region=')) return arg.slice('--region='.length)
    if (arg === '--region' || arg === '-r') return args[index + 1]
  }
  return env.SCIMGATE_REGION
}

// `scimgate dev` only supervises (its gateway and node processes trace themselves), and its embedded PostgreSQL serves no requests.
const untraced = ['dev', 'embedded-postgres'].includes(process.argv.slice(2).find((arg) => !arg.startsWith('-')) ?? '')
if (isTracingEnabled(process.env) && !untraced) {
  const region = regionOf(process.argv, process.env)
  await startTracing({ serviceName: tracingServiceName(process.env, serviceNameOf(process.argv)), ...(region === undefined ? {} : { resourceAttributes: { 'scimgate.region': region } }) })
}
