// Whether tracing runs, from the standard OpenTelemetry variables. What to
// export and where (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_*) the SDK reads
// itself when lib/tracing.ts starts it.

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== ''

/**
 * On when an OTLP endpoint is configured or OTEL_TRACES_EXPORTER names an
 * exporter (`console`, `otlp`, `zipkin`); off when OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none, and off by default.
 */
export function isTracingEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '')
  if (exporters.length > 0) return !exporters.every((name) => name === 'none')
  return isSet(env.OTEL_EXPORTER_OTLP_ENDPOINT) || isSet(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
}

/** The service.name to give the SDK: `fallback`, unless OTEL_SERVICE_NAME names one (the SDK reads that itself). */
export function tracingServiceName(env: Readonly<Record<string, string | undefined>>, fallback: string): string | undefined {
  return isSet(env.OTEL_SERVICE_NAME) ? undefined : fallback
}
