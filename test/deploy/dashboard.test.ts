// The Grafana dashboard and the alert rules read only metrics the processes
// really export: a real gateway and node serve traffic, their /metrics are
// scraped, and every metric name of every panel query and every rule must be
// among what they offered.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { exportedMetricNames, promqlMetricNames } from '../helpers/promql-metric-names.ts'
import { startSystem } from '../helpers/system.ts'

const DASHBOARD_FILE = fileURLToPath(new URL('../../deploy/monitoring/grafana-dashboard.json', import.meta.url))
const RULES_FILE = fileURLToPath(new URL('../../deploy/monitoring/scimgate-rules.yaml', import.meta.url))
// The one series a rule may read that no process exports: Prometheus writes `up` for every target it scrapes
// (0 when the scrape fails), which is how a pod that answers nothing shows.
const WRITTEN_BY_PROMETHEUS = new Set(['up'])

interface Target {
  readonly expr: string
  readonly refId: string
}
interface Panel {
  readonly id: number
  readonly type: string
  readonly title: string
  readonly datasource?: { uid?: string }
  readonly targets?: readonly Target[]
  readonly panels?: readonly Panel[]
}
interface Dashboard {
  readonly uid: string
  readonly panels: readonly Panel[]
  readonly templating: { list: readonly { name: string; type: string; query: unknown }[] }
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]).filter((panel) => panel.type !== 'row')
const rules = (parseYaml(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((group) => group.rules)

t.test('reading metric names out of PromQL', async (t) => {
  const cases: [string, string[]][] = [
    ['histogram_quantile(0.99, sum by (operation, le) (rate(scimgate_http_request_duration_seconds_bucket{component="gateway", region=~"$region"}[$__rate_interval])))', ['scimgate_http_request_duration_seconds_bucket']],
    ['sum(rate(a_total{status=~"5.."}[5m])) / on (region) group_left (x) sum(rate(b_total[5m])) > 0.05 and c >= 10', ['a_total', 'b_total', 'c']],
    ['topk(10, sum by (tenant) (increase(t_total[$__range]))) > 0', ['t_total']],
    ['scimgate_ready == 0 or up{component=~"gateway|node"} == 0', ['scimgate_ready', 'up']],
    ['min_over_time(scimgate_pg_pool_connections{state="waiting"}[5m]) > 0', ['scimgate_pg_pool_connections']],
  ]
  for (const [expr, names] of cases) t.same([...promqlMetricNames(expr)].sort(), names.sort(), expr)
})

t.test('the dashboard: one region at a time, every query on the chosen data source and region', async (t) => {
  const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]))
  t.equal(variables.get('datasource')?.type, 'datasource')
  t.equal(variables.get('region')?.type, 'query')
  t.equal(new Set(panels.map((panel) => panel.id)).size, panels.length, 'panel ids are unique')
  for (const panel of panels) {
    t.ok((panel.targets ?? []).length > 0, `${panel.title}: has queries`)
    t.equal(panel.datasource?.uid, '${datasource}', `${panel.title}: the data source variable`)
    for (const target of panel.targets ?? []) t.match(target.expr, /region=~"\$region"/, `${panel.title} ${target.refId}: filtered by region`)
  }
  const used = new Set(panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => [...promqlMetricNames(target.expr)])))
  // What the issue asks the dashboard to show: requests and errors by operation, latency percentiles, token cache,
  // Redis and PostgreSQL health, rate limiting, top tenants by traffic.
  for (const name of [
    'scimgate_http_requests_total',
    'scimgate_http_request_duration_seconds_bucket',
    'scimgate_token_cache_hits_total',
    'scimgate_token_cache_misses_total',
    'scimgate_redis_connection_up',
    'scimgate_pg_pool_connections',
    'scimgate_rate_limited_total',
    'scimgate_tenant_requests_total',
    'scimgate_event_feed_consumer_lag_seconds',
  ]) t.ok(used.has(name), `a panel shows ${name}`)
})

t.test('every metric of every panel and every alert rule is exported by a running gateway or node', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'], ops: true, processMetrics: true, env: { RATE_LIMIT_PER_TENANT: '3' } })
  const { token } = await system.createToken('acme', 'EU1')
  const created = await system.request('eu1.localhost', 'POST', '/scim/v2/Users', { token, body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'dash@example.com' } })
  t.equal(created.status, 201)
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await system.request('eu1.localhost', 'GET', '/scim/v2/Users', { token })).status)
  t.same(statuses, [200, 200, 429], 'traffic, and a tenant over its limit')
  // A change feed consumer reads once, so the node reports its lag.
  t.equal((await system.admin('GET', '/admin/v1/regions/EU1/tenants/acme/changes?consumer=dashboard')).status, 200)

  const exported = new Set<string>()
  for (const opsUrl of [system.gateway.opsUrl, system.nodes.get('EU1')!.opsUrl]) {
    const response = await fetch(`${opsUrl}/metrics`)
    t.equal(response.status, 200)
    const text = await response.text()
    for (const name of exportedMetricNames(text)) exported.add(name)
    if (opsUrl === system.nodes.get('EU1')!.opsUrl) t.match(text, /^scimgate_event_feed_consumer_lag_seconds\{region="EU1",consumer="operator\/dashboard"\} [\d.e+-]+$/m, 'the consumer\'s lag is a sample, not only a declared family')
  }
  t.ok(exported.has('scimgate_tenant_rate_limited_total') && exported.has('scimgate_pg_pool_connections'), 'both tiers were scraped')
  t.notOk(exported.has('scimgate_change_feed_consumer_lag_seconds'), 'a name nobody exports is not found')

  for (const panel of panels) {
    for (const target of panel.targets ?? []) {
      for (const name of promqlMetricNames(target.expr)) t.ok(exported.has(name), `panel "${panel.title}" ${target.refId}: ${name} is exported`)
    }
  }
  for (const variable of dashboard.templating.list) {
    const query = typeof variable.query === 'string' ? variable.query : ((variable.query as { query?: string } | null)?.query ?? '')
    const metric = /label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(query)?.[1]
    if (metric !== undefined) t.ok(exported.has(metric), `variable ${variable.name}: ${metric} is exported`)
  }
  t.ok(rules.length > 0)
  for (const rule of rules) {
    for (const name of promqlMetricNames(rule.expr)) t.ok(exported.has(name) || WRITTEN_BY_PROMETHEUS.has(name), `alert ${rule.alert}: ${name} is exported`)
  }
})
