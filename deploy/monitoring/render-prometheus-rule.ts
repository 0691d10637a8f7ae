// Renders the PrometheusRule of the monitoring component from the plain rules
// file, so the two never disagree: `npm run monitoring:render` writes it, and
// test/deploy/alert-rules.test.ts fails when the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'

export const RULES_FILE = fileURLToPath(new URL('./scimgate-rules.yaml', import.meta.url))
export const PROMETHEUS_RULE_FILE = fileURLToPath(new URL('../k8s/components/monitoring/prometheus-rule.yaml', import.meta.url))

const HEADER = `# GENERATED from deploy/monitoring/scimgate-rules.yaml by \`npm run monitoring:render\`:
# edit that file, then run the command. The overlay's namespace is set by kustomize.
`

export function renderPrometheusRule(rulesText: string): string {
  const rules = parse(rulesText) as { groups: unknown[] }
  const resource = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'scimgate' },
    spec: { groups: rules.groups },
  }
  return HEADER + stringify(resource, { lineWidth: 0 })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(PROMETHEUS_RULE_FILE, renderPrometheusRule(readFileSync(RULES_FILE, 'utf8')))
  console.error(`wrote ${PROMETHEUS_RULE_FILE}`)
}
