// OpenTelemetry tracing for both tiers, configured by the standard OTEL_*
// variables. With tracing off nothing of the SDK is loaded: only
// @opentelemetry/api, whose no-op calls the logger mixin and the
// observability plugins make.
//
// ESM: pg and ioredis are patched only if import-in-the-middle's loader hook
// is registered before they are first imported, so startTracing() must run
// before the application is imported (bin/scimgate.js and
// lib/tracing-preload.ts do that; tests import the system dynamically after it).
import { register } from 'node:module'
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { activateRequestSpans } from './tracing/request-spans.ts'

export interface TracingOptions {
  /** service.name (config/tracing-settings.ts leaves it out when OTEL_SERVICE_NAME is set). */
  readonly serviceName?: string
  /** Replaces the exporters OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_* describe (tests pass an in-memory exporter). */
  readonly spanProcessors?: readonly SpanProcessor[]
}

export interface Tracing {
  /** Flushes pending spans and stops exporting. */
  shutdown(): Promise<void>
}

let running: Promise<Tracing> | undefined

/** Starts the process-wide SDK once (later calls return the same handle). */
export function startTracing(options: TracingOptions = {}): Promise<Tracing> {
  running ??= start(options)
  return running
}

/** Flushes and stops the SDK if it was started; a no-op otherwise. */
export async function shutdownTracing(): Promise<void> {
  const current = running
  running = undefined
  if (current !== undefined) await (await current).shutdown()
}

async function start(options: TracingOptions): Promise<Tracing> {
  // import-in-the-middle wraps only the modules an instrumentation asks for (sent over this channel).
  const { createAddHookMessageChannel } = await import('import-in-the-middle')
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel()
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, registerOptions)

  const [{ NodeSDK }, { ScimSpanProcessor }, { createInstrumentations }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('./tracing/scim-span-processor.ts'),
    import('./tracing/instrumentations.ts'),
  ])
  const exporting = options.spanProcessors ?? (await spanProcessorsFromEnv())
  const sdk = new NodeSDK({
    ...(options.serviceName === undefined ? {} : { serviceName: options.serviceName }),
    // The redacting processor first: it edits spans before any exporter sees them.
    spanProcessors: [new ScimSpanProcessor(), ...exporting],
    instrumentations: await createInstrumentations(),
    // Metrics are prom-client's (the ops port); logs go to stdout through pino.
    metricReaders: [],
    logRecordProcessors: [],
  })
  sdk.start()
  await waitForAllMessagesAcknowledged()
  activateRequestSpans()
  return { shutdown: () => sdk.shutdown() }
}

/**
 * The span processors NodeSDK would build from OTEL_TRACES_EXPORTER and
 * OTEL_EXPORTER_OTLP_* by itself; it does not when it is given processors
 * (ours must come first), so its own helper is borrowed. The SDK is pinned,
 * which keeps this internal path stable.
 */
async function spanProcessorsFromEnv(): Promise<SpanProcessor[]> {
  const { getSpanProcessorsFromEnv } = await import('@opentelemetry/sdk-node/build/src/utils.js')
  return getSpanProcessorsFromEnv(undefined)
}
