import type { Region, RegionCatalog } from '../../config/region-catalog.ts'

export type RegionResolver = (host: string | undefined) => Region | undefined

/** Hostname → region, from the catalog; the port, letter case and a trailing dot do not matter. */
export function createRegionResolver(catalog: RegionCatalog): RegionResolver {
  const byHost = new Map<string, Region>()
  for (const region of catalog.regions) for (const hostname of region.hostnames) byHost.set(hostname, region)
  // Traffic keeps naming the same few hosts: the last answer is kept, so the usual request normalises nothing.
  let lastHost: string | undefined
  let lastRegion: Region | undefined
  return (host) => {
    if (host === undefined || host === '') return undefined
    if (host === lastHost) return lastRegion
    const name = host.startsWith('[') ? host : host.replace(/:\d+$/, '')
    const region = byHost.get(name.toLowerCase().replace(/\.$/, ''))
    lastHost = host
    lastRegion = region
    return region
  }
}
