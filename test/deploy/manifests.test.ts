// Renders every region overlay with `kubectl kustomize` and checks what a
// cluster would receive: schema-valid objects, selectors that select, hardened
// pods, secrets only by reference, and the region's namespace, labels, code
// and hostnames exactly as config/regions.yaml has them.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { parse as parseYaml, parseAllDocuments } from 'yaml'
import { loadRegionCatalog, parseRegionCatalog, type Region } from '../../config/region-catalog.ts'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { Job } from 'kubernetes-models/batch/v1/Job'
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { Service } from 'kubernetes-models/v1/Service'
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec'

const OVERLAYS_DIR = fileURLToPath(new URL('../../deploy/k8s/overlays/', import.meta.url))
const SECRET_KEYS = new Set(['DATABASE_URL', 'REDIS_URL', 'TOKEN_PEPPERS', 'TOKEN_PEPPER_CURRENT', 'IDENTITY_SIGNING_KEY', 'IDENTITY_JWKS', 'SCIM_CURSOR_KEYS', 'ADMIN_TOKEN_SHA256'])
const COMPONENTS = new Set(['node', 'gateway', 'migrate'])
const NODE_PORT = 8080

type ModelClass = new (data: never) => { validate(): void }
// Every kind the overlays may render; anything else fails the schema test.
const MODELS: Readonly<Record<string, ModelClass>> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
}

interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string> }
  [field: string]: unknown
}
type Labels = Readonly<Record<string, string>>
type Workload = K8sObject & { spec: { selector?: { matchLabels?: Labels }; template: IPodTemplateSpec } }

const kubectlAvailable = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0

function render(region: string): K8sObject[] {
  const result = spawnSync('kubectl', ['kustomize', `${OVERLAYS_DIR}${region}`], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
  if (result.status !== 0) throw new Error(`kubectl kustomize ${region} failed: ${result.stderr}`)
  return parseAllDocuments(result.stdout).map((document) => document.toJS() as K8sObject)
}

function matches(selector: Labels | undefined, labels: Labels | undefined): boolean {
  return Object.entries(selector ?? {}).every(([key, value]) => labels?.[key] === value)
}

function workloads(objects: readonly K8sObject[]): Workload[] {
  return objects.filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'Job')
}

function containersOf(workload: Workload): IContainer[] {
  return [...(workload.spec.template.spec?.initContainers ?? []), ...(workload.spec.template.spec?.containers ?? [])]
}

function find(objects: readonly K8sObject[], kind: string, component: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.labels?.['app.kubernetes.io/component'] === component)
}

function configMapData(objects: readonly K8sObject[], name: string): Readonly<Record<string, string>> | undefined {
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)
  return configMap === undefined ? undefined : ((configMap.data ?? {}) as Record<string, string>)
}

/** A container's arguments with Kubernetes' `$(VAR)` references expanded from its env (literal values and ConfigMap keys). */
function expandedArgs(container: IContainer, objects: readonly K8sObject[]): string[] {
  const values = new Map<string, string>()
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name
    if (name !== undefined) for (const [key, value] of Object.entries(configMapData(objects, name) ?? {})) values.set(key, value)
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.configMapKeyRef
    const value = variable.value ?? (ref === undefined ? undefined : configMapData(objects, ref.name ?? '')?.[ref.key])
    if (value !== undefined) values.set(variable.name, value)
  }
  return (container.args ?? []).map((arg) => arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => values.get(name) ?? whole))
}

const catalog = loadRegionCatalog()
const overlays = readdirSync(OVERLAYS_DIR).sort()

t.test('there is exactly one overlay per catalog region', async (t) => {
  t.same(overlays, catalog.regions.map((r) => r.code.toLowerCase()).sort())
})

if (!kubectlAvailable) {
  t.skip('kubectl not installed: the rendered manifests are not checked', async () => {})
} else {
  for (const region of catalog.regions) t.test(`overlay ${region.code}`, async (t) => checkOverlay(t, region, render(region.code.toLowerCase())))
}

async function checkOverlay(t: Test, region: Region, objects: readonly K8sObject[]): Promise<void> {
  const slug = region.code.toLowerCase()
  const namespace = `scimgate-${slug}`

  t.test('every object validates against the Kubernetes schema', async (t) => {
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`]
      if (Model === undefined) {
        t.fail(`${object.apiVersion} ${object.kind} ${object.metadata.name}: no schema for this kind`)
        continue
      }
      t.doesNotThrow(() => new Model(object as never).validate(), `${object.kind} ${object.metadata.name}`)
    }
  })

  t.test('it renders the node, the gateway and the migration of the region', async (t) => {
    const expected: readonly [string, string][] = [
      ['Deployment', 'node'], ['Service', 'node'], ['HorizontalPodAutoscaler', 'node'], ['PodDisruptionBudget', 'node'], ['NetworkPolicy', 'node'],
      ['Deployment', 'gateway'], ['Service', 'gateway'], ['HorizontalPodAutoscaler', 'gateway'], ['PodDisruptionBudget', 'gateway'], ['Ingress', 'gateway'],
      ['Job', 'migrate'],
    ]
    for (const [kind, component] of expected) t.ok(find(objects, kind, component), `${kind} of the ${component}`)
    for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
      const target = (hpa.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef
      t.ok(objects.some((o) => o.kind === target.kind && o.metadata.name === target.name), `${hpa.metadata.name} scales an existing ${target.kind}`)
    }
    for (const workload of objects.filter((o) => o.kind === 'Deployment')) {
      t.equal((workload as Workload).spec.template.spec?.containers.length, 1, `${workload.metadata.name}: one container`)
      t.notOk('replicas' in (workload.spec as object), `${workload.metadata.name}: replicas are left to the autoscaler`)
    }
  })

  t.test('every object carries the region namespace and labels', async (t) => {
    for (const object of objects) {
      const where = `${object.kind} ${object.metadata.name}`
      if (object.kind === 'Namespace') t.equal(object.metadata.name, namespace, where)
      else t.equal(object.metadata.namespace, namespace, where)
      t.equal(object.metadata.labels?.['scimgate.io/region'], slug, `${where}: region label`)
      t.equal(object.metadata.labels?.['app.kubernetes.io/name'], 'scimgate', `${where}: name label`)
    }
    for (const workload of workloads(objects)) {
      const labels = workload.spec.template.metadata?.labels
      t.equal(labels?.['scimgate.io/region'], slug, `${workload.metadata.name}: pods carry the region label`)
      t.ok(COMPONENTS.has(labels?.['app.kubernetes.io/component'] ?? ''), `${workload.metadata.name}: pods name their component`)
      t.equal(workload.metadata.labels?.['app.kubernetes.io/component'], labels?.['app.kubernetes.io/component'], `${workload.metadata.name}: same component as its pods`)
    }
  })

  t.test('selectors select', async (t) => {
    const templates = workloads(objects).map((w) => w.spec.template.metadata?.labels ?? {})
    for (const workload of workloads(objects)) {
      const selector = workload.spec.selector?.matchLabels
      if (workload.kind === 'Deployment') t.ok(selector !== undefined && Object.keys(selector).length > 0, `${workload.metadata.name}: has a selector`)
      t.ok(matches(selector, workload.spec.template.metadata?.labels), `${workload.kind} ${workload.metadata.name}: selector matches its pod template`)
    }
    const selected: [string, Labels | undefined][] = []
    for (const object of objects) {
      const spec = object.spec as Record<string, unknown> | undefined
      const where = `${object.kind} ${object.metadata.name}`
      if (object.kind === 'Service') selected.push([where, spec?.selector as Labels])
      if (object.kind === 'PodDisruptionBudget') selected.push([where, (spec?.selector as { matchLabels?: Labels }).matchLabels])
      if (object.kind === 'NetworkPolicy') {
        const policy = spec as { podSelector: { matchLabels?: Labels }; ingress?: { from?: { podSelector?: { matchLabels?: Labels }; namespaceSelector?: unknown }[] }[]; egress?: { to?: { podSelector?: { matchLabels?: Labels }; namespaceSelector?: unknown }[] }[] }
        selected.push([where, policy.podSelector.matchLabels])
        // Peers named by pod labels alone are pods of this namespace: they must exist.
        for (const peer of [...(policy.ingress ?? []).flatMap((r) => r.from ?? []), ...(policy.egress ?? []).flatMap((r) => r.to ?? [])]) {
          if (peer.podSelector !== undefined && peer.namespaceSelector === undefined) selected.push([`${where} peer`, peer.podSelector.matchLabels])
        }
      }
    }
    for (const [where, selector] of selected) t.ok(templates.some((labels) => matches(selector, labels)), `${where}: selects some pod template`)
  })

  t.test('only the gateway reaches the node', async (t) => {
    const policy = find(objects, 'NetworkPolicy', 'node')?.spec as { policyTypes: string[]; ingress: { from: { podSelector?: { matchLabels?: Labels }; namespaceSelector?: unknown; ipBlock?: unknown }[] }[] }
    t.ok(policy.policyTypes.includes('Ingress'))
    const peers = policy.ingress.flatMap((rule) => rule.from ?? [])
    t.ok(peers.length > 0, 'an ingress rule without peers would admit everybody')
    for (const peer of peers) {
      t.equal(peer.podSelector?.matchLabels?.['app.kubernetes.io/component'], 'gateway', 'peer is the gateway')
      t.equal(peer.namespaceSelector, undefined, 'of this namespace only')
      t.equal(peer.ipBlock, undefined)
    }
  })

  t.test('pods are probed, sized and hardened', async (t) => {
    for (const workload of workloads(objects)) {
      const pod = workload.spec.template.spec
      const name = workload.metadata.name
      t.equal(pod?.automountServiceAccountToken, false, `${name}: no service account token`)
      t.equal(pod?.securityContext?.runAsNonRoot, true, `${name}: pod runs as non-root`)
      t.ok((pod?.securityContext?.runAsUser ?? 0) > 0, `${name}: pod has a non-root numeric UID`)
      for (const container of containersOf(workload)) {
        const where = `${name}/${container.name}`
        const security = container.securityContext
        t.equal(security?.allowPrivilegeEscalation, false, `${where}: no privilege escalation`)
        t.equal(security?.readOnlyRootFilesystem, true, `${where}: read-only root filesystem`)
        t.equal(security?.runAsNonRoot ?? pod?.securityContext?.runAsNonRoot, true, `${where}: non-root`)
        t.not(security?.privileged, true, `${where}: not privileged`)
        t.same(security?.capabilities?.drop, ['ALL'], `${where}: drops all capabilities`)
        t.notOk(security?.capabilities?.add?.length, `${where}: adds none`)
        t.equal((security?.seccompProfile ?? pod?.securityContext?.seccompProfile)?.type, 'RuntimeDefault', `${where}: seccomp RuntimeDefault`)
        for (const resource of ['cpu', 'memory']) {
          t.ok(container.resources?.requests?.[resource], `${where}: requests ${resource}`)
          t.ok(container.resources?.limits?.[resource], `${where}: limits ${resource}`)
        }
        t.equal(container.image, workload.spec.template.spec?.containers[0]?.image, `${where}: one image`)
        t.notOk(container.image?.endsWith(':latest') || !container.image?.includes(':'), `${where}: pinned image ${container.image}`)
        if (workload.kind !== 'Deployment') continue
        const ports = new Set((container.ports ?? []).flatMap((p) => [p.name, p.containerPort]))
        for (const [probe, path] of [['readinessProbe', '/readyz'], ['livenessProbe', '/livez'], ['startupProbe', '/livez']] as const) {
          const get = container[probe]?.httpGet
          t.equal(get?.path, path, `${where}: ${probe} on ${path}`)
          t.ok(get !== undefined && ports.has(get.port), `${where}: ${probe} port is a container port`)
        }
      }
    }
  })

  t.test('secrets are only referenced, by key', async (t) => {
    t.notOk(objects.some((o) => o.kind === 'Secret'), 'no Secret objects are rendered')
    for (const configMap of objects.filter((o) => o.kind === 'ConfigMap')) {
      for (const key of Object.keys((configMap.data ?? {}) as object)) t.notOk(SECRET_KEYS.has(key), `${configMap.metadata.name} holds no secret setting (${key})`)
    }
    let references = 0
    for (const workload of workloads(objects)) {
      for (const container of containersOf(workload)) {
        t.notOk((container.envFrom ?? []).some((source) => source.secretRef !== undefined), `${workload.metadata.name}: no whole-Secret envFrom`)
        for (const variable of container.env ?? []) {
          const ref = variable.valueFrom?.secretKeyRef
          if (SECRET_KEYS.has(variable.name)) t.ok(ref !== undefined, `${workload.metadata.name}: ${variable.name} comes from a Secret`)
          if (ref === undefined) continue
          references += 1
          t.ok(ref.name, `${workload.metadata.name}: ${variable.name} names its Secret`)
          t.ok(ref.key !== undefined && SECRET_KEYS.has(ref.key), `${workload.metadata.name}: ${variable.name} names a known key (${ref.key})`)
        }
      }
    }
    const referenced = (component: string) => {
      const workload = find(objects, component === 'migrate' ? 'Job' : 'Deployment', component) as Workload
      return containersOf(workload).flatMap((c) => c.env ?? []).filter((v) => v.valueFrom?.secretKeyRef !== undefined && v.valueFrom.secretKeyRef.optional !== true).map((v) => v.name).sort()
    }
    t.same(referenced('node'), ['DATABASE_URL', 'IDENTITY_JWKS', 'SCIM_CURSOR_KEYS'])
    t.same(referenced('gateway'), ['IDENTITY_SIGNING_KEY', 'REDIS_URL', 'TOKEN_PEPPERS'])
    t.same(referenced('migrate'), ['DATABASE_URL'])
    t.ok(references > 0)
  })

  t.test('every ConfigMap a pod names is rendered', async (t) => {
    for (const workload of workloads(objects)) {
      for (const container of containersOf(workload)) {
        const names = [...(container.envFrom ?? []).map((s) => s.configMapRef?.name), ...(container.env ?? []).map((v) => v.valueFrom?.configMapKeyRef?.name)]
        for (const name of names) if (name !== undefined) t.ok(configMapData(objects, name), `${workload.metadata.name}: ConfigMap ${name}`)
      }
      for (const volume of workload.spec.template.spec?.volumes ?? []) {
        if (volume.configMap !== undefined) t.ok(configMapData(objects, volume.configMap.name ?? ''), `${workload.metadata.name}: volume ConfigMap ${volume.configMap.name}`)
      }
    }
  })

  t.test(`the node and the migration run for ${region.code}`, async (t) => {
    const node = find(objects, 'Deployment', 'node') as Workload
    const job = find(objects, 'Job', 'migrate') as Workload
    t.same(expandedArgs(containersOf(node)[0]!, objects), ['node', '--region', region.code])
    t.same(expandedArgs(containersOf(job)[0]!, objects), ['migrate', '--region', region.code])
    t.same(containersOf(find(objects, 'Deployment', 'gateway') as Workload)[0]?.args, ['gateway'])
    t.equal(job.spec.template.spec?.restartPolicy, 'Never')
  })

  t.test('the catalog the pods read is config/regions.yaml with this cluster\'s upstreams', async (t) => {
    const file = objects.filter((o) => o.kind === 'ConfigMap').map((o) => (o.data as Record<string, string> | undefined)?.['regions.yaml']).find((text) => text !== undefined)
    t.ok(file, 'a ConfigMap holds regions.yaml')
    const deployed = parseRegionCatalog(parseYaml(file ?? ''), 'the catalog ConfigMap')
    const describe = (r: Region) => ({ code: r.code, name: r.name, tenantUrl: r.tenantUrl, hostnames: r.hostnames })
    t.same(deployed.regions.map(describe), catalog.regions.map(describe))
    for (const r of deployed.regions) t.same(r.upstreams, [`http://scimgate-node.scimgate-${r.code.toLowerCase()}.svc.cluster.local:${NODE_PORT}`], `${r.code} upstream`)
    const service = find(objects, 'Service', 'node')
    t.equal(service?.metadata.name, 'scimgate-node')
    t.ok((service?.spec as { ports: { port: number }[] }).ports.some((p) => p.port === NODE_PORT), `the node Service listens on ${NODE_PORT}`)
  })

  t.test(`the Ingress serves exactly the ${region.code} hostnames over TLS`, async (t) => {
    const ingresses = objects.filter((o) => o.kind === 'Ingress')
    t.equal(ingresses.length, 1)
    const spec = ingresses[0]?.spec as { tls: { hosts: string[]; secretName?: string }[]; rules: { host: string; http: { paths: { path: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } }[] }
    // The *.localhost names are for local runs only.
    const expected = region.hostnames.filter((h) => !h.endsWith('.localhost')).sort()
    t.same(spec.rules.map((r) => r.host).sort(), expected, 'rules')
    t.same(spec.tls.flatMap((entry) => entry.hosts).sort(), expected, 'TLS hosts')
    t.ok(spec.tls.every((entry) => entry.secretName), 'TLS names its certificate Secret')
    const gateway = find(objects, 'Service', 'gateway')
    const servicePorts = (gateway?.spec as { ports: { name?: string; port: number }[] }).ports
    for (const rule of spec.rules) {
      for (const path of rule.http.paths) {
        t.equal(path.path, '/scim', `${rule.host}: only /scim is exposed`)
        t.equal(path.backend.service.name, gateway?.metadata.name, `${rule.host}: routes to the gateway`)
        t.ok(servicePorts.some((p) => p.name === path.backend.service.port.name || p.port === path.backend.service.port.number), `${rule.host}: a port of the gateway Service`)
      }
    }
  })
}
