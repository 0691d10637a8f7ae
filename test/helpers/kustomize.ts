// Renders the Kubernetes manifests offline with `kubectl kustomize` and reads
// what a cluster would receive: objects, pod templates, selectors.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec'

export const DEPLOY_K8S_DIR = fileURLToPath(new URL('../../deploy/k8s/', import.meta.url))
export const OVERLAYS_DIR = `${DEPLOY_K8S_DIR}overlays/`

export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  [field: string]: unknown
}
export type Labels = Readonly<Record<string, string>>
export interface LabelSelector {
  readonly matchLabels?: Labels
  readonly matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] }[]
}
export type Workload = K8sObject & { spec: { selector?: { matchLabels?: Labels }; template: IPodTemplateSpec } }

export const kubectlAvailable = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0

function kustomize(dir: string, extraArgs: readonly string[] = []): K8sObject[] {
  const result = spawnSync('kubectl', ['kustomize', ...extraArgs, dir], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr}`)
  return parseAllDocuments(result.stdout).map((document) => document.toJS() as K8sObject)
}

/** The objects of one region's overlay (`eu1`), as `kubectl apply -k` would send them. */
export function renderOverlay(region: string): K8sObject[] {
  return kustomize(`${OVERLAYS_DIR}${region}`)
}

/**
 * Renders a kustomization written for the test: `resources` and `components` are paths under deploy/k8s/,
 * `files` are written next to the kustomization and added to its resources.
 */
export function renderVariant(kustomization: { resources: readonly string[]; components?: readonly string[]; files?: Readonly<Record<string, string>> }): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'scimgate-kustomize-'))
  try {
    const fromDir = (path: string) => relative(dir, `${DEPLOY_K8S_DIR}${path}`)
    for (const [name, content] of Object.entries(kustomization.files ?? {})) writeFileSync(join(dir, name), content)
    const text = JSON.stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: [...kustomization.resources.map(fromDir), ...Object.keys(kustomization.files ?? {})],
      components: (kustomization.components ?? []).map(fromDir),
    })
    writeFileSync(join(dir, 'kustomization.yaml'), text)
    return kustomize(dir, ['--load-restrictor', 'LoadRestrictionsNone'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Kubernetes label selector semantics (matchLabels and the In / NotIn / Exists / DoesNotExist expressions). */
export function selects(selector: LabelSelector | undefined, labels: Labels | undefined): boolean {
  const byLabels = Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels?.[key] === value)
  const byExpressions = (selector?.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const value = labels?.[key]
    if (operator === 'In') return value !== undefined && values.includes(value)
    if (operator === 'NotIn') return value === undefined || !values.includes(value)
    if (operator === 'Exists') return value !== undefined
    if (operator === 'DoesNotExist') return value === undefined
    throw new Error(`unknown selector operator ${operator}`)
  })
  return byLabels && byExpressions
}

export function workloadsOf(objects: readonly K8sObject[]): Workload[] {
  return objects.filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'Job')
}

/** The pod template of a component's Deployment (or Job, for `migrate`). */
export function podTemplateOf(objects: readonly K8sObject[], component: string): IPodTemplateSpec {
  const workload = workloadsOf(objects).find((w) => w.spec.template.metadata?.labels?.['app.kubernetes.io/component'] === component)
  if (workload === undefined) throw new Error(`no workload of component ${component}`)
  return workload.spec.template
}

export function configMapData(objects: readonly K8sObject[], name: string): Readonly<Record<string, string>> | undefined {
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)
  return configMap === undefined ? undefined : ((configMap.data ?? {}) as Record<string, string>)
}
