// A span processor that runs before the exporting ones:
// - onStart: a span inherits the request-level attributes (region, tenant,
//   SCIM resource type and operation) its parent carries, so pg and proxy
//   spans can be found by tenant without each instrumentation knowing it;
// - onEnding (the span is still writable): query strings are redacted from
//   every URL attribute (a SCIM filter carries user names and e-mail
//   addresses) and credential headers are dropped, whatever instrumentation
//   or configuration recorded them.
import { trace, type AttributeValue, type Context } from '@opentelemetry/api'
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { REDACTED, redactUrl } from './redact-url.ts'
import { INHERITED_SPAN_ATTRIBUTES } from './request-spans.ts'

// Old and stable HTTP semantic conventions, and @fastify/otel's url.path (which holds request.url, query included).
const URL_ATTRIBUTES = ['url.full', 'url.path', 'url.query', 'http.url', 'http.target']
const CREDENTIAL_HEADER = /^http\.(request|response)\.header\.(authorization|proxy-authorization|cookie|set-cookie|x-scimgate-identity)$/

export class ScimSpanProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    // A remote or non-recording parent has no attributes.
    const parentAttributes = (trace.getSpan(parentContext) as Partial<ReadableSpan> | undefined)?.attributes
    if (parentAttributes === undefined) return
    for (const key of INHERITED_SPAN_ATTRIBUTES) {
      const value = parentAttributes[key]
      if (value !== undefined) span.setAttribute(key, value)
    }
  }

  onEnding(span: Span): void {
    const attributes = span.attributes as Record<string, AttributeValue | undefined>
    for (const key of URL_ATTRIBUTES) {
      const value = attributes[key]
      if (typeof value === 'string') attributes[key] = redactUrl(value, key === 'url.query')
    }
    for (const key of Object.keys(attributes)) {
      if (CREDENTIAL_HEADER.test(key)) attributes[key] = REDACTED
    }
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve()
  }

  shutdown(): Promise<void> {
    return Promise.resolve()
  }
}
