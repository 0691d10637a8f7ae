// A stand-in OpenTelemetry collector: receives OTLP/HTTP JSON trace exports
// (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json) from processes a test spawns.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedSpan {
  readonly service: string
  readonly resource: Readonly<Record<string, string>>
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  /** OTLP SpanKind: 2 = server, 3 = client. */
  readonly kind: number
  /** The span's text attributes. */
  readonly attributes: Readonly<Record<string, string>>
}

interface OtlpAttribute {
  key: string
  value: { stringValue?: string }
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] }
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[] }[] }[]
  }[]
}

export interface OtlpReceiver {
  /** OTEL_* settings that make a process export its spans here, quickly. */
  readonly env: Readonly<Record<string, string>>
  readonly spans: readonly ReceivedSpan[]
  close(): Promise<void>
}

const textAttributes = (attributes: readonly OtlpAttribute[] = []): Record<string, string> =>
  Object.fromEntries(attributes.flatMap((a) => (a.value.stringValue === undefined ? [] : [[a.key, a.value.stringValue]])))

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
    request.on('end', () => {
      const exported = JSON.parse(body) as OtlpExport
      for (const resourceSpans of exported.resourceSpans ?? []) {
        const resource = textAttributes(resourceSpans.resource?.attributes)
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({ service: resource['service.name'] ?? '', resource, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || undefined, name: span.name, kind: span.kind, attributes: textAttributes(span.attributes) })
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    env: {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
    spans,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
