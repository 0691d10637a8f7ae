// The instrumentations both tiers run: HTTP server and client, undici (the
// gateway's proxy), fastify (@fastify/otel; the old instrumentation-fastify is
// deprecated), pg and ioredis. Loaded only when tracing is on.
import { IncomingMessage } from 'node:http'
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node'
import { rememberServerSpan } from './request-spans.ts'

export type Instrumentations = NonNullable<NodeSDKConfiguration['instrumentations']>

/** Probes and scrapes: tracing them would bury the requests that matter. */
const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/livez', '/readyz', '/metrics'])

const pathOf = (url: string | undefined): string => (url ?? '').split('?', 1)[0] ?? ''

export async function createInstrumentations(): Promise<Instrumentations> {
  const [{ HttpInstrumentation }, { UndiciInstrumentation }, { PgInstrumentation }, { IORedisInstrumentation }, { FastifyOtelInstrumentation }] = await Promise.all([
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@fastify/otel'),
  ])
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(pathOf(request.url)),
      requestHook: (span, request) => {
        if (request instanceof IncomingMessage) rememberServerSpan(request, span)
      },
      // No headersToSpanAttributes: no header (Authorization above all) is ever recorded.
    }),
    // Injects its own traceparent into proxied requests (the gateway drops the client's).
    new UndiciInstrumentation(),
    // Statements are recorded parameterised; values (tenant ids, user names, filter literals) never are.
    // requireParentSpan: pool housekeeping and migrations do not start traces of their own.
    new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
    // Keys hold token digests and arguments hold records: record the command name only.
    new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    new FastifyOtelInstrumentation({
      registerOnInitialization: true,
      // Spans for auth (onRequest), validation and rate limits (preHandler); not for the
      // observability hooks themselves (preParsing, onResponse) nor serialisation.
      instrumentHooks: ['onRequest', 'preValidation', 'preHandler'],
      ignorePaths: (route) => UNTRACED_PATHS.has(pathOf(route.url)),
    }),
  ]
}
