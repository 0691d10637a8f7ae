import type { RegionCatalog } from '../../config/region-catalog.ts'

export interface BannerFacts {
  readonly catalog: RegionCatalog
  readonly nodeUrls: ReadonlyMap<string, string>
  readonly gatewayUrl: string
  readonly adminUrl: string | undefined
  readonly opsUrls: ReadonlyMap<string, string>
  /** Shown only when the credential was made for this run. */
  readonly generatedAdminToken: string | undefined
  readonly embedded: readonly string[]
  readonly dataDir: string
  readonly demoTokens: ReadonlyMap<string, string>
}

/** What `npm start` prints once everything listens: where each tier is, the tenant URLs, a first request to try. */
export function printBanner(facts: BannerFacts, print: (line: string) => void): void {
  const ops = (name: string): string => (facts.opsUrls.has(name) ? `   ops ${facts.opsUrls.get(name)}` : '')
  print('')
  for (const region of facts.catalog.regions) print(`${region.code.padEnd(4)} node ${facts.nodeUrls.get(region.code) ?? '?'}${ops(region.code)}`)
  if (facts.embedded.length > 0) print(`\nembedded mode: ${facts.embedded.join(' and ')} (data in ${facts.dataDir})`)
  print(`\ngateway ${facts.gatewayUrl}   admin API ${facts.adminUrl ?? 'off'}${ops('gateway')}`)
  if (facts.adminUrl !== undefined) {
    print(`console ${facts.adminUrl}/console/${facts.generatedAdminToken === undefined ? '' : `   sign in with the operator credential of this run: ${facts.generatedAdminToken}`}`)
    print('        team admins: npx scimgate credential create --kind admin --tenant acme --region EU1')
  }
  const port = new URL(facts.gatewayUrl).port
  print('\ntenant URLs (locally, send the Host header):')
  for (const region of facts.catalog.regions) {
    const local = region.hostnames.find((h) => h.endsWith('.localhost')) ?? region.hostnames[0]
    const demo = facts.demoTokens.get(region.code)
    print(`  ${region.code.padEnd(4)} ${region.tenantUrl.padEnd(44)} local: http://${local}:${port}/scim${demo === undefined ? '' : `   demo token: ${demo}`}`)
  }
  print('\ntry:')
  print('  TOKEN=$(npx scimgate token create --tenant acme --region EU1)')
  print(`  curl -s -H "Host: eu1.localhost" -H "Authorization: Bearer $TOKEN" http://127.0.0.1:${port}/scim/v2/Users`)
}
