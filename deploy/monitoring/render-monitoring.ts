// Renders the monitoring component's objects from the sources in this folder,
// so they never disagree: the PrometheusRule from scimgate-rules.yaml and the
// Grafana dashboard ConfigMap from grafana-dashboard.json.
// `npm run monitoring:render` writes them; test/deploy/alert-rules.test.ts
// fails when a committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'

export const RULES_FILE = fileURLToPath(new URL('./scimgate-rules.yaml', import.meta.url))
export const DASHBOARD_FILE = fileURLToPath(new URL('./grafana-dashboard.json', import.meta.url))
const COMPONENT_DIR = new URL('../k8s/components/monitoring/', import.meta.url)
export const PROMETHEUS_RULE_FILE = fileURLToPath(new URL('prometheus-rule.yaml', COMPONENT_DIR))
export const DASHBOARD_CONFIG_MAP_FILE = fileURLToPath(new URL('grafana-dashboard.yaml', COMPONENT_DIR))

function header(source: string): string {
  return `# GENERATED from deploy/monitoring/${source} by \`npm run monitoring:render\`:
# edit that file, then run the command. The overlay's namespace is set by kustomize.
`
}

export function renderPrometheusRule(rulesText: string): string {
  const rules = parse(rulesText) as { groups: unknown[] }
  const resource = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'scimgate' },
    spec: { groups: rules.groups },
  }
  return header('scimgate-rules.yaml') + stringify(resource, { lineWidth: 0 })
}

/** For Grafana's dashboard sidecar (kube-prometheus-stack: it loads ConfigMaps labelled grafana_dashboard=1). */
export function renderDashboardConfigMap(dashboardText: string): string {
  const resource = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'scimgate-grafana-dashboard', labels: { grafana_dashboard: '1' } },
    data: { 'scimgate-region.json': dashboardText },
  }
  return header('grafana-dashboard.json') + stringify(resource, { lineWidth: 0 })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(PROMETHEUS_RULE_FILE, renderPrometheusRule(readFileSync(RULES_FILE, 'utf8')))
  writeFileSync(DASHBOARD_CONFIG_MAP_FILE, renderDashboardConfigMap(readFileSync(DASHBOARD_FILE, 'utf8')))
  console.error(`wrote ${PROMETHEUS_RULE_FILE} and ${DASHBOARD_CONFIG_MAP_FILE}`)
}
