// The network of every region as rendered: each component reaches only what it
// needs, at the addresses of the overlay's network.yaml (RegionNetwork); the
// OTLP collector only when tracing is on; TRUSTED_PROXIES from the overlay;
// the gateway→node hop over TLS with the certificate from a Secret.
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { ConfigError } from '../../config/config-error.ts'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadRegionCatalog } from '../../config/region-catalog.ts'
import { generateIdentityKeyPair } from '../../lib/internal-identity.ts'
import { gatewaySecretsEnv } from '../helpers/test-secrets.ts'
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec'
import { OVERLAYS_DIR, configMapData, kubectlAvailable, podTemplateOf, renderOverlay, renderVariant, selects, type K8sObject, type LabelSelector } from '../helpers/kustomize.ts'

interface EgressRule {
  to?: unknown[]
  ports?: { port: number | string; protocol?: string }[]
}
interface PolicySpec {
  podSelector: LabelSelector
  policyTypes: string[]
  egress?: EgressRule[]
  ingress?: unknown[]
}
interface RegionNetwork {
  trustedProxies: string
  monitoring: unknown[]
  postgres: EgressRule
  pgbouncer: EgressRule
  redis: EgressRule
  sentinels: EgressRule
  otlpEndpoint: string
  otlpCollector: EgressRule
}

const OTLP_PORTS = new Set([4317, 4318])
const DNS_RULE: EgressRule = {
  to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
  ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
}
const NODE_RULE: EgressRule = {
  to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'scimgate', 'app.kubernetes.io/component': 'node' } } }],
  ports: [{ port: 8443, protocol: 'TCP' }],
}

/** JSON with sorted keys, so equal rules compare equal whatever order YAML gave their fields. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (typeof value === 'object' && value !== null) return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(',')}}`
  return JSON.stringify(value)
}

function policies(objects: readonly K8sObject[]): (K8sObject & { spec: PolicySpec })[] {
  return objects.filter((o): o is K8sObject & { spec: PolicySpec } => o.kind === 'NetworkPolicy')
}

/** Every egress rule that applies to pods of the template (NetworkPolicies add up). */
function egressOf(objects: readonly K8sObject[], pod: IPodTemplateSpec): EgressRule[] {
  return policies(objects)
    .filter((policy) => policy.spec.policyTypes.includes('Egress') && selects(policy.spec.podSelector, pod.metadata?.labels))
    .flatMap((policy) => policy.spec.egress ?? [])
}

function readNetwork(region: string): RegionNetwork {
  return (parseYaml(readFileSync(`${OVERLAYS_DIR}${region}/network.yaml`, 'utf8')) as { spec: RegionNetwork }).spec
}

function checkEgress(t: Test, objects: readonly K8sObject[], network: RegionNetwork, tracing: boolean): void {
  const expected: Record<string, EgressRule[]> = {
    node: [DNS_RULE, network.postgres, network.pgbouncer],
    gateway: [NODE_RULE, DNS_RULE, network.redis, network.sentinels],
    migrate: [DNS_RULE, network.postgres],
  }
  for (const [component, rules] of Object.entries(expected)) {
    const actual = egressOf(objects, podTemplateOf(objects, component))
    for (const rule of actual) {
      t.ok((rule.to ?? []).length > 0, `${component}: every egress rule names its destinations (no "anywhere")`)
      t.ok((rule.ports ?? []).length > 0, `${component}: every egress rule names its ports`)
      t.notMatch(canonical(rule.to), /0\.0\.0\.0\/0|::\/0/, `${component}: no egress to the whole internet`)
    }
    const wanted = [...rules, ...(tracing ? [network.otlpCollector] : [])].map(canonical).sort()
    t.same(actual.map(canonical).sort(), wanted, `${component}: exactly its destinations${tracing ? ', the collector included' : ''}`)
    t.equal(actual.some((rule) => (rule.ports ?? []).some((p) => OTLP_PORTS.has(Number(p.port)))), tracing, `${component}: OTLP egress ${tracing ? 'with' : 'without'} tracing`)
  }
  t.ok(policies(objects).some((p) => canonical(p.spec.podSelector) === '{}' && p.spec.policyTypes.length === 2 && !p.spec.egress && !p.spec.ingress), 'default deny for everything else')
}

const catalog = loadRegionCatalog()
const gatewayEnv = { REDIS_URL: 'redis://127.0.0.1:6379', ...gatewaySecretsEnv(await generateIdentityKeyPair()) }

if (!kubectlAvailable) {
  t.skip('kubectl not installed: the rendered network is not checked', async () => {})
} else {
  for (const region of catalog.regions) {
    const slug = region.code.toLowerCase()
    t.test(`overlay ${region.code}`, async (t) => {
      const objects = renderOverlay(slug)
      const network = readNetwork(slug)

      t.test('egress per component, at the addresses of network.yaml', async (t) => checkEgress(t, objects, network, true))

      t.test('the monitoring namespace scrapes the ops port, nothing else does', async (t) => {
        const scrape = policies(objects).filter((p) => p.spec.policyTypes.includes('Ingress') && canonical(p.spec.ingress ?? []).includes('"ops"'))
        t.equal(scrape.length, 1)
        t.same(scrape[0]?.spec.ingress, [{ from: network.monitoring, ports: [{ port: 'ops', protocol: 'TCP' }] }])
        for (const component of ['gateway', 'node']) t.ok(selects(scrape[0]?.spec.podSelector, podTemplateOf(objects, component).metadata?.labels), `${component} pods are scraped`)
      })

      t.test('TRUSTED_PROXIES is the ingress controller of network.yaml, nothing wider', async (t) => {
        const value = configMapData(objects, objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('scimgate-gateway-config'))!.metadata.name)?.TRUSTED_PROXIES
        t.equal(value, network.trustedProxies)
        const config = loadGatewayConfig({ ...gatewayEnv, TRUSTED_PROXIES: value ?? '' }, catalog)
        t.ok(config.trustedProxies.length > 0, 'the gateway accepts it')
        for (const entry of config.trustedProxies) t.ok(Number(entry.split('/')[1] ?? 32) >= 16, `${entry}: a range no wider than /16`)
      })

      t.test('tracing: every process exports to the collector of network.yaml', async (t) => {
        for (const name of ['scimgate-node-config', 'scimgate-gateway-config', 'scimgate-migrate-config']) {
          const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(`${name}-`))
          t.equal((configMap?.data as Record<string, string>)?.OTEL_EXPORTER_OTLP_ENDPOINT, network.otlpEndpoint, name)
        }
      })

      t.test('the node serves TLS from the Secret; the gateway holds only its CA', async (t) => {
        const settings = (component: string) => {
          const container = podTemplateOf(objects, component).spec!.containers[0]!
          const data = configMapData(objects, container.envFrom![0]!.configMapRef!.name!)!
          const volumes = podTemplateOf(objects, component).spec!.volumes ?? []
          /** The Secret and key a file path of the container comes from. */
          const sourceOf = (path: string) => {
            const mount = (container.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`))
            const secret = volumes.find((v) => v.name === mount?.name)?.secret
            const item = secret?.items?.find((i) => `${mount?.mountPath}/${i.path}` === path)
            return { secret: secret?.secretName, key: item?.key, items: secret?.items?.map((i) => i.key), mode: secret?.defaultMode }
          }
          return { container, data, sourceOf }
        }
        const node = settings('node')
        // 0440 with the pod's fsGroup: the key is readable by the node's user and nobody else's.
        t.same(node.sourceOf(node.data.TLS_CERT_FILE ?? ''), { secret: 'scimgate-node-tls', key: 'tls.crt', items: ['tls.crt', 'tls.key'], mode: 0o440 })
        t.same(node.sourceOf(node.data.TLS_KEY_FILE ?? ''), { secret: 'scimgate-node-tls', key: 'tls.key', items: ['tls.crt', 'tls.key'], mode: 0o440 })
        t.equal(podTemplateOf(objects, 'node').spec?.securityContext?.fsGroup, podTemplateOf(objects, 'node').spec?.securityContext?.runAsGroup, 'the fsGroup is the node\'s group')
        t.equal(node.container.ports?.find((p) => p.name === 'https')?.containerPort, Number(node.data.PORT), 'the node listens (HTTPS) on its https port')
        const gateway = settings('gateway')
        t.same(gateway.sourceOf(gateway.data.UPSTREAM_TLS_CA_FILE ?? ''), { secret: 'scimgate-node-tls', key: 'ca.crt', items: ['ca.crt'], mode: 0o444 }, 'the gateway never mounts the node key')
      })
    })
  }

  t.test('without the tracing component: no OTLP endpoint and no egress to a collector', async (t) => {
    const objects = renderVariant({ resources: ['base', 'overlays/eu1/network.yaml'], components: ['components/region-network'] })
    for (const o of objects.filter((o) => o.kind === 'ConfigMap')) t.notOk('OTEL_EXPORTER_OTLP_ENDPOINT' in ((o.data ?? {}) as object), `${o.metadata.name}: no OTLP endpoint`)
    checkEgress(t, objects, readNetwork('eu1'), false)
  })

  t.test('a network.yaml without one of its settings does not render (no silent "anywhere")', async (t) => {
    const settings = parseYaml(readFileSync(`${OVERLAYS_DIR}eu1/network.yaml`, 'utf8')) as { spec: Record<string, unknown> }
    for (const missing of ['trustedProxies', 'monitoring', 'postgres', 'pgbouncer', 'redis', 'sentinels']) {
      const { [missing]: _dropped, ...rest } = settings.spec
      t.throws(() => renderVariant({ resources: ['base'], components: ['components/region-network'], files: { 'network.yaml': stringifyYaml({ ...settings, spec: rest }) } }), new RegExp(`spec.${missing}\` is missing`), `without ${missing}`)
    }
    t.ok(renderVariant({ resources: ['base'], components: ['components/region-network'], files: { 'network.yaml': stringifyYaml(settings) } }).length > 0, 'with all of them it renders')
  })

  t.test('the base without network settings reaches nothing outside and its gateway refuses to start', async (t) => {
    const objects = renderVariant({ resources: ['base'] })
    for (const component of ['node', 'gateway', 'migrate']) {
      const ports = egressOf(objects, podTemplateOf(objects, component)).flatMap((rule) => (rule.ports ?? []).map((p) => p.port))
      t.same([...new Set(ports)].filter((port) => port !== 53 && port !== 8443), [], `${component}: DNS (and the node) only`)
    }
    const trusted = configMapData(objects, objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('scimgate-gateway-config'))!.metadata.name)?.TRUSTED_PROXIES
    t.throws(() => loadGatewayConfig({ ...gatewayEnv, TRUSTED_PROXIES: trusted ?? '' }, catalog), new ConfigError('environment', ['TRUSTED_PROXIES: SET-BY-OVERLAY is not an IP address or CIDR']), 'TRUSTED_PROXIES is not set')
  })
}
