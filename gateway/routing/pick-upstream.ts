import type { Region } from '../../config/region-catalog.ts'

/** One of a region's nodes, chosen at random so requests spread over them (the proxy and the admin API alike). */
export function pickUpstream(region: Region): string {
  const { upstreams } = region
  return upstreams.length === 1 ? upstreams[0]! : upstreams[Math.floor(Math.random() * upstreams.length)]!
}
