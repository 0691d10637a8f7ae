// The alert rules: valid for Prometheus (`promtool check rules`), every alert
// unit-tested (`promtool test rules`), each with a severity, a summary naming
// its region and a runbook link to an existing section of docs/runbook.md,
// and the PrometheusRule (and dashboard ConfigMap) of the monitoring component
// generated from the same files. The scrape configuration for plain Prometheus adds the same target
// labels as the PodMonitor.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { DASHBOARD_CONFIG_MAP_FILE, DASHBOARD_FILE, PROMETHEUS_RULE_FILE, RULES_FILE, renderDashboardConfigMap, renderPrometheusRule } from '../../deploy/monitoring/render-monitoring.ts'

const MONITORING_DIR = fileURLToPath(new URL('../../deploy/monitoring/', import.meta.url))
const RUNBOOK_FILE = fileURLToPath(new URL('../../docs/runbook.md', import.meta.url))
const POD_MONITOR_FILE = fileURLToPath(new URL('../../deploy/k8s/components/monitoring/pod-monitor.yaml', import.meta.url))
const RUNBOOK_URL = /^https:\/\/\S+\/docs\/runbook\.md#([a-z0-9-]+)$/

interface Rule {
  alert?: string
  record?: string
  expr: string
  for?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}
interface AlertTest {
  alertname: string
  exp_alerts?: { exp_labels?: Record<string, string> }[]
}

const rulesText = readFileSync(RULES_FILE, 'utf8')
const rules = (parseYaml(rulesText) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((group) => group.rules)
const alerts = rules.filter((rule): rule is Rule & { alert: string } => rule.alert !== undefined)
const promtoolAvailable = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>()
  for (const match of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    anchors.add(match[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'))
  }
  return anchors
}

function promtool(args: readonly string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: MONITORING_DIR, encoding: 'utf8' })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

if (!promtoolAvailable) {
  t.skip('promtool not installed (Debian package prometheus): the rules are not checked by Prometheus', async () => {})
} else {
  t.test('promtool check rules', async (t) => {
    const { status, output } = promtool(['check', 'rules', 'scimgate-rules.yaml'])
    t.equal(status, 0, output)
    t.match(output, new RegExp(`SUCCESS: ${rules.length} rules found`))
  })

  t.test('promtool test rules: the unit tests pass', async (t) => {
    const { status, output } = promtool(['test', 'rules', 'scimgate-rules.test.yaml'])
    t.equal(status, 0, output)
  })
}

t.test('every alert has a unit test in which it fires, and one where it stays silent', async (t) => {
  const tests = (parseYaml(readFileSync(`${MONITORING_DIR}scimgate-rules.test.yaml`, 'utf8')) as { tests: { alert_rule_test?: AlertTest[] }[] }).tests.flatMap((test) => test.alert_rule_test ?? [])
  for (const { alert } of alerts) {
    const cases = tests.filter((test) => test.alertname === alert)
    t.ok(cases.some((test) => (test.exp_alerts ?? []).length > 0), `${alert} fires in a test`)
    t.ok(cases.some((test) => (test.exp_alerts ?? []).length === 0), `${alert} stays silent in a test`)
    for (const test of cases) for (const expected of test.exp_alerts ?? []) t.ok(expected.exp_labels?.region, `${alert}: the expected alert names its region`)
  }
  t.equal(new Set(alerts.map((a) => a.alert)).size, alerts.length, 'alert names are unique')
})

t.test('every alert has a severity, a summary naming the region and a runbook section', async (t) => {
  const anchors = anchorsOf(readFileSync(RUNBOOK_FILE, 'utf8'))
  t.ok(alerts.length >= 8, `${alerts.length} alerts`)
  for (const rule of alerts) {
    t.ok(['critical', 'warning', 'info'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity ${rule.labels?.severity}`)
    t.match(rule.annotations?.summary ?? '', /\{\{ \$labels\.region \}\}/, `${rule.alert}: the summary names the region`)
    t.ok(rule.annotations?.description, `${rule.alert}: a description`)
    const anchor = RUNBOOK_URL.exec(rule.annotations?.runbook_url ?? '')?.[1]
    t.ok(anchor !== undefined, `${rule.alert}: runbook_url points into docs/runbook.md`)
    t.ok(anchor !== undefined && anchors.has(anchor), `${rule.alert}: docs/runbook.md has the section #${anchor}`)
    t.equal(anchor, rule.alert.toLowerCase(), `${rule.alert}: its own section`)
    t.ok(/^\d+[smh]$/.test(rule.for ?? ''), `${rule.alert}: holds for a while before firing (${rule.for})`)
    t.match(rule.expr, /component=/, `${rule.alert}: reads the series of one component`)
  }
})

t.test('the dashboard ConfigMap is generated from the dashboard', async (t) => {
  const text = readFileSync(DASHBOARD_FILE, 'utf8')
  t.equal(readFileSync(DASHBOARD_CONFIG_MAP_FILE, 'utf8'), renderDashboardConfigMap(text), 'run `npm run monitoring:render` after editing deploy/monitoring/grafana-dashboard.json')
  const configMap = parseYaml(readFileSync(DASHBOARD_CONFIG_MAP_FILE, 'utf8')) as { metadata: { labels: Record<string, string> }; data: Record<string, string> }
  t.same(JSON.parse(configMap.data['scimgate-region.json'] ?? ''), JSON.parse(text))
  t.equal(configMap.metadata.labels.grafana_dashboard, '1', 'the label Grafana\'s sidecar looks for')
})

t.test('the PrometheusRule is generated from the rules file', async (t) => {
  t.equal(readFileSync(PROMETHEUS_RULE_FILE, 'utf8'), renderPrometheusRule(rulesText), 'run `npm run monitoring:render` after editing deploy/monitoring/scimgate-rules.yaml')
  const resource = parseYaml(readFileSync(PROMETHEUS_RULE_FILE, 'utf8')) as { kind: string; spec: { groups: unknown } }
  t.equal(resource.kind, 'PrometheusRule')
  t.same(resource.spec.groups, (parseYaml(rulesText) as { groups: unknown }).groups)
})

t.test('plain Prometheus and the Prometheus Operator scrape the same way', async (t) => {
  interface Relabel { source_labels?: string[]; sourceLabels?: string[]; target_label?: string; targetLabel?: string; regex?: string; action?: string }
  const config = parseYaml(readFileSync(`${MONITORING_DIR}scrape-config.yaml`, 'utf8')) as { rule_files: string[]; scrape_configs: { job_name: string; honor_labels?: boolean; relabel_configs: Relabel[] }[] }
  const podMonitor = parseYaml(readFileSync(POD_MONITOR_FILE, 'utf8')) as { spec: { podMetricsEndpoints: { port: string; path: string; honorLabels?: boolean; relabelings: Relabel[] }[] } }
  const job = config.scrape_configs.find((c) => c.job_name === 'scimgate')
  const endpoint = podMonitor.spec.podMetricsEndpoints[0]
  t.same(config.rule_files, ['scimgate-rules.yaml'])
  t.equal(job?.honor_labels, true, 'a series\' own region wins')
  t.equal(endpoint?.honorLabels, true)
  t.equal(endpoint?.port, 'ops')
  t.equal(endpoint?.path, '/metrics')
  const targetLabels = (relabels: readonly Relabel[]) =>
    Object.fromEntries(relabels.filter((r) => (r.target_label ?? r.targetLabel) !== undefined && !(r.target_label ?? r.targetLabel)!.startsWith('__')).map((r) => [r.target_label ?? r.targetLabel, (r.source_labels ?? r.sourceLabels ?? []).join(',')]))
  const fromPodMonitor = targetLabels(endpoint?.relabelings ?? [])
  t.same(fromPodMonitor, { region: '__meta_kubernetes_pod_label_scimgate_io_region_code', component: '__meta_kubernetes_pod_label_app_kubernetes_io_component' })
  t.match(targetLabels(job?.relabel_configs ?? []), fromPodMonitor, 'the plain job adds the same labels (and namespace, pod)')
  const keeps = (job?.relabel_configs ?? []).filter((r) => r.action === 'keep').map((r) => `${r.source_labels?.join(',')}=${r.regex}`)
  t.same(keeps, ['__meta_kubernetes_pod_annotation_prometheus_io_scrape=true', '__meta_kubernetes_pod_label_app_kubernetes_io_name=scimgate', '__meta_kubernetes_pod_container_port_name=ops'])
})
