// Prometheus can scrape every region as rendered: the gateway and node pods
// carry the conventional scrape annotations naming their ops port, the
// PodMonitor of the monitoring component selects exactly them on that port,
// the pods carry the region code the scrape turns into the `region` label, and
// the PrometheusRule holds the rules of deploy/monitoring/scimgate-rules.yaml.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { loadRegionCatalog } from '../../config/region-catalog.ts'
import { DASHBOARD_FILE, RULES_FILE } from '../../deploy/monitoring/render-monitoring.ts'
import { configMapData, kubectlAvailable, podTemplateOf, renderOverlay, selects, type LabelSelector } from '../helpers/kustomize.ts'

const catalog = loadRegionCatalog()
const ruleGroups = (parseYaml(readFileSync(RULES_FILE, 'utf8')) as { groups: unknown }).groups

if (!kubectlAvailable) {
  t.skip('kubectl not installed: the rendered manifests are not checked', async () => {})
} else {
  for (const region of catalog.regions) {
    t.test(`overlay ${region.code}`, async (t) => {
      const objects = renderOverlay(region.code.toLowerCase())

      for (const component of ['gateway', 'node']) {
        const pod = podTemplateOf(objects, component)
        const container = pod.spec!.containers[0]!
        const ops = container.ports?.find((p) => p.name === 'ops')
        const settings = configMapData(objects, container.envFrom![0]!.configMapRef!.name!)
        t.ok(ops, `${component}: an ops port`)
        t.equal(String(ops?.containerPort), settings?.OPS_PORT, `${component}: the process listens for /metrics on it (OPS_PORT)`)
        t.same(pod.metadata?.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(ops?.containerPort), 'prometheus.io/path': '/metrics' }, `${component}: scrape annotations`)
        t.equal(pod.metadata?.labels?.['scimgate.io/region-code'], region.code, `${component}: the region code for the region label`)
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) t.equal(container[probe]?.httpGet?.port, 'ops', `${component}: ${probe} on the plain-HTTP ops port`)
      }
      t.notOk(podTemplateOf(objects, 'migrate').metadata?.annotations?.['prometheus.io/scrape'], 'the migration job is not scraped')

      const monitors = objects.filter((o) => o.kind === 'PodMonitor')
      t.equal(monitors.length, 1, 'one PodMonitor')
      const spec = monitors[0]?.spec as { selector: LabelSelector; podMetricsEndpoints: { port: string }[] }
      for (const component of ['gateway', 'node']) t.ok(selects(spec.selector, podTemplateOf(objects, component).metadata?.labels), `the PodMonitor selects the ${component}`)
      t.notOk(selects(spec.selector, podTemplateOf(objects, 'migrate').metadata?.labels), 'but not the migration job')
      t.same(spec.podMetricsEndpoints.map((e) => e.port), ['ops'])

      const rules = objects.filter((o) => o.kind === 'PrometheusRule')
      t.equal(rules.length, 1, 'one PrometheusRule')
      t.same((rules[0]?.spec as { groups: unknown }).groups, ruleGroups, 'the rules of deploy/monitoring/scimgate-rules.yaml')
      const dashboard = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1')
      t.same(JSON.parse((dashboard?.data as Record<string, string>)?.['scimgate-region.json'] ?? '{}'), JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')), 'the dashboard for Grafana\'s sidecar')
    })
  }
}
