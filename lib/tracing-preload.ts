// Starts tracing before the application is imported, so the instrumentations
// patch pg, ioredis, undici and fastify as they load. bin/scimgate.js imports
// it first; another entry point can preload it:
//   node --import tsx/esm --import ./lib/tracing-preload.ts entry.ts
// With tracing off (the default) it loads nothing of the OpenTelemetry SDK.
import { isTracingEnabled, tracingServiceName } from '../config/tracing-settings.ts'
import { startTracing } from './tracing.ts'

/** `scimgate gateway` → scimgate-gateway, `scimgate node` → scimgate-node; OTEL_SERVICE_NAME wins. */
function serviceNameOf(argv: readonly string[]): string {
  const command = argv.slice(2).find((arg) => !arg.startsWith('-'))
  return command === 'gateway' || command === 'node' ? `scimgate-${command}` : 'scimgate'
}

if (isTracingEnabled(process.env)) await startTracing({ serviceName: tracingServiceName(process.env, serviceNameOf(process.argv)) })
