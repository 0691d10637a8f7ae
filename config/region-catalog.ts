import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { ConfigError, describeIssues } from './config-error.ts'

export const DEFAULT_CATALOG_FILE = fileURLToPath(new URL('./regions.yaml', import.meta.url))

const hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'must be a lower-case DNS hostname without port')

const upstream = z
  .string()
  .url()
  .refine((u) => /^https?:$/.test(new URL(u).protocol), 'must be an http or https URL')

const regionSchema = z.strictObject({
  code: z.string().regex(/^[A-Z][A-Z0-9]{1,15}$/, 'must be upper-case letters and digits, e.g. EU1'),
  name: z.string().min(1),
  tenantUrl: z.string().url(),
  hostnames: z.array(hostname).min(1),
  upstreams: z.array(upstream).min(1),
  nodePort: z.number().int().min(1).max(65535),
})

const catalogSchema = z
  .strictObject({ regions: z.array(regionSchema).min(1) })
  .superRefine((catalog, ctx) => {
    const codes = new Map<string, number>()
    const hosts = new Map<string, string>()
    const ports = new Map<number, string>()
    catalog.regions.forEach((region, index) => {
      if (codes.has(region.code)) ctx.addIssue({ code: 'custom', path: ['regions', index, 'code'], message: `duplicate region code ${region.code}` })
      codes.set(region.code, index)
      for (const host of region.hostnames) {
        const owner = hosts.get(host)
        if (owner !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['regions', index, 'hostnames'], message: `hostname ${host} already belongs to ${owner}` })
        }
        hosts.set(host, region.code)
      }
      const portOwner = ports.get(region.nodePort)
      if (portOwner !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['regions', index, 'nodePort'], message: `port ${region.nodePort} already used by ${portOwner}` })
      }
      ports.set(region.nodePort, region.code)
    })
  })

type RegionInput = z.infer<typeof regionSchema>
export type Region = Readonly<Omit<RegionInput, 'hostnames' | 'upstreams'>> & {
  readonly hostnames: readonly string[]
  readonly upstreams: readonly string[]
}

export interface RegionCatalog {
  readonly regions: readonly Region[]
  byCode(code: string): Region | undefined
}

export function parseRegionCatalog(document: unknown, source: string): RegionCatalog {
  const result = catalogSchema.safeParse(document)
  if (!result.success) throw new ConfigError(source, describeIssues(result.error.issues))
  const regions: readonly Region[] = Object.freeze(result.data.regions.map((r): Region => Object.freeze({ ...r, hostnames: Object.freeze([...r.hostnames]), upstreams: Object.freeze([...r.upstreams]) })))
  const index = new Map(regions.map((r) => [r.code, r]))
  return Object.freeze({ regions, byCode: (code: string) => index.get(code.toUpperCase()) })
}

export function loadRegionCatalog(file: string = DEFAULT_CATALOG_FILE): RegionCatalog {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(file, [`cannot read region catalog: ${(error as Error).message}`])
  }
  let document: unknown
  try {
    document = parseYaml(text)
  } catch (error) {
    throw new ConfigError(file, [`not valid YAML: ${(error as Error).message}`])
  }
  return parseRegionCatalog(document, file)
}

/** The catalog SCIMGATE_REGIONS_FILE names, else the default one. */
export function loadRegionCatalogFromEnv(env: Readonly<Record<string, string | undefined>>): RegionCatalog {
  const file = env.SCIMGATE_REGIONS_FILE?.trim()
  return loadRegionCatalog(file === undefined || file === '' ? DEFAULT_CATALOG_FILE : file)
}
