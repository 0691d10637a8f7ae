// Loads the JSON fixture tables of this folder. A case names its resource
// (a key of the file's `resources`) or carries it inline; the expected
// resource is given whole (`resource`) or as top-level `changes` to the input
// (`null` = attribute removed).
import { readFileSync } from 'node:fs'
import type { MemberOperation } from '../../../../region-node/scim/patch/index.ts'
import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE } from '../../../../region-node/scim/schema/index.ts'
import type { ResourceTypeDefinition, ScimResource } from '../../../../region-node/scim/schema/index.ts'

type ResourceRef = string | ScimResource

interface FixtureFile {
  readonly description: string
  readonly resources: Record<string, ScimResource>
  readonly cases: readonly {
    readonly name: string
    readonly resourceType: 'User' | 'Group'
    readonly resource: ResourceRef
    readonly body: unknown
    readonly expected: {
      readonly resource?: ResourceRef
      readonly changes?: Record<string, unknown>
      readonly changed?: boolean
      readonly memberOperations?: MemberOperation[]
      readonly error?: { readonly status: number; readonly scimType: string; readonly detail?: string }
    }
  }[]
}

export interface FixtureCase {
  readonly name: string
  readonly resourceType: ResourceTypeDefinition
  readonly resource: ScimResource
  readonly body: unknown
  readonly expected:
    | { readonly kind: 'result'; readonly resource: ScimResource; readonly changed: boolean; readonly memberOperations: MemberOperation[] }
    | { readonly kind: 'error'; readonly status: number; readonly scimType: string; readonly detail?: string }
}

export function loadFixtureCases(fileName: string): { description: string; cases: FixtureCase[] } {
  const file = JSON.parse(readFileSync(new URL(`./fixtures/${fileName}`, import.meta.url), 'utf8')) as FixtureFile
  const resolve = (ref: ResourceRef): ScimResource => {
    if (typeof ref !== 'string') return ref
    const resource = file.resources[ref]
    if (resource === undefined) throw new Error(`${fileName}: no resource "${ref}"`)
    return structuredClone(resource)
  }
  const cases = file.cases.map((fixture): FixtureCase => {
    const resource = resolve(fixture.resource)
    const resourceType = fixture.resourceType === 'User' ? USER_RESOURCE_TYPE : GROUP_RESOURCE_TYPE
    const { expected } = fixture
    if (expected.error !== undefined) {
      return { name: fixture.name, resourceType, resource, body: fixture.body, expected: { kind: 'error', ...expected.error } }
    }
    const expectedResource = expected.resource === undefined ? applyChanges(resource, expected.changes ?? {}) : resolve(expected.resource)
    return {
      name: fixture.name,
      resourceType,
      resource,
      body: fixture.body,
      expected: {
        kind: 'result',
        resource: expectedResource,
        changed: expected.changed ?? true,
        memberOperations: expected.memberOperations ?? [],
      },
    }
  })
  return { description: file.description, cases }
}

function applyChanges(resource: ScimResource, changes: Record<string, unknown>): ScimResource {
  const result = structuredClone(resource)
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete result[key]
    else result[key] = value
  }
  return result
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
  }
  return value
}

/** True when any object inside `value` is frozen: the result shares structure with a frozen input. */
export function containsFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (Object.isFrozen(value)) return true
  return Object.values(value).some(containsFrozen)
}

export function thrownBy(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  return undefined
}
