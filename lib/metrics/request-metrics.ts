// Metrics both tiers keep per request. Each process (and each app in tests)
// has its own prom-client Registry: nothing goes to the global one.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ScimRequestShape } from './scim-operation.ts'

export interface RequestObservation extends ScimRequestShape {
  readonly region: string
  readonly status: number
  readonly seconds: number
}

export interface RequestMetrics {
  observe(observation: RequestObservation): void
}

// Identity providers give up after 60 s; the upstream timeouts are 30 s.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export function createMetricsRegistry(): Registry {
  return new Registry()
}

/** CPU, memory, event loop delay, GC, handles: once per process (`scimgate dev` runs several apps in one). */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: 'scimgate_' })
}

const MAX_LABEL_SETS = 1_000

export function createRequestMetrics(registry: Registry): RequestMetrics {
  const requests = new Counter({
    name: 'scimgate_http_requests_total',
    help: 'HTTP requests answered, by region, status, SCIM operation and resource type',
    labelNames: ['region', 'status', 'operation', 'resource_type'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'scimgate_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by region, SCIM operation, resource type and status class',
    labelNames: ['region', 'operation', 'resource_type', 'status_class'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  })
  // The label sets of one (region, status, operation, resource type), made once; a bounded number is kept.
  const labelSets = new Map<string, { readonly request: Record<string, string>; readonly duration: Record<string, string> }>()
  return {
    observe({ region, status, operation, resourceType, seconds }) {
      const key = `${region} ${status} ${operation} ${resourceType}`
      let labels = labelSets.get(key)
      if (labels === undefined) {
        labels = {
          request: { region, status: String(status), operation, resource_type: resourceType },
          duration: { region, operation, resource_type: resourceType, status_class: `${Math.floor(status / 100)}xx` },
        }
        if (labelSets.size < MAX_LABEL_SETS) labelSets.set(key, labels)
      }
      requests.inc(labels.request)
      duration.observe(labels.duration, seconds)
    },
  }
}
