// Request-level span attributes (region, tenant, SCIM resource type and
// operation), set by the tiers' observability plugins once a request is
// authenticated. Only @opentelemetry/api is loaded here: with tracing off
// every call returns at the first line.
import type { Attributes, Span } from '@opentelemetry/api'
import type { IncomingMessage } from 'node:http'

export const SPAN_ATTRIBUTE = Object.freeze({
  region: 'scimgate.region',
  tenantId: 'scimgate.tenant_id',
  resourceType: 'scim.resource_type',
  operation: 'scim.operation',
})

/** Copied from a parent span to every child started after they were set (see scim-span-processor.ts). */
export const INHERITED_SPAN_ATTRIBUTES: readonly string[] = Object.values(SPAN_ATTRIBUTE)

let tracingActive = false
const serverSpans = new WeakMap<IncomingMessage, Span>()

/** Called by startTracing(); until then the functions below do nothing. */
export function activateRequestSpans(): void {
  tracingActive = true
}

/** Whether request spans are being recorded (callers skip work that only feeds span attributes). */
export function requestSpansActive(): boolean {
  return tracingActive
}

/** The http instrumentation's SERVER span of an incoming request (the root of a tier's part of the trace). */
export function rememberServerSpan(request: IncomingMessage, span: Span): void {
  serverSpans.set(request, span)
}

/**
 * Sets attributes on the request's SERVER span and on @fastify/otel's request
 * span; spans started later in the request (handler, proxy client, pg) inherit them.
 */
export function setRequestSpanAttributes(request: { readonly raw: IncomingMessage }, attributes: Attributes): void {
  if (!tracingActive) return
  serverSpans.get(request.raw)?.setAttributes(attributes)
  // @fastify/otel decorates requests with opentelemetry() only when its plugin is registered.
  const otel = (request as { opentelemetry?: unknown }).opentelemetry
  if (typeof otel === 'function') (otel.call(request) as { span?: Span | null }).span?.setAttributes(attributes)
}
