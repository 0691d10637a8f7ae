// RFC 7644 §3.14: versions are weak ETags, W/"<version>".
import { ScimError } from '../../lib/scim-error.ts'

export function formatVersion(version: number): string {
  return `W/"${version}"`
}

export type VersionCondition = { readonly kind: 'any' } | { readonly kind: 'versions'; readonly versions: ReadonlySet<number> }

/** Reads an If-Match / If-None-Match header; tags that are not ours match nothing. */
export function parseVersionCondition(header: string | undefined): VersionCondition | undefined {
  if (header === undefined || header.trim() === '') return undefined
  if (header.trim() === '*') return { kind: 'any' }
  const versions = new Set<number>()
  for (const match of header.matchAll(/(?:W\/)?"(\d{1,9})"/g)) versions.add(Number(match[1]))
  return { kind: 'versions', versions }
}

export function conditionMatches(condition: VersionCondition, version: number): boolean {
  return condition.kind === 'any' || condition.versions.has(version)
}

/** 412 when an If-Match names a version the resource no longer has. */
export function assertIfMatch(condition: VersionCondition | undefined, version: number): void {
  if (condition !== undefined && !conditionMatches(condition, version)) {
    throw new ScimError(412, undefined, `the resource has changed (current version ${formatVersion(version)}); read it again and retry`)
  }
}
