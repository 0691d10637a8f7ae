import fc from 'fast-check'
import t from 'tap'
import { isScimError } from '../../../../lib/scim-error.ts'
import { normalizeResource, validateResource } from '../../../../region-node/scim/ingest/index.ts'
import { GROUP_RESOURCE_TYPE, RESOURCE_TYPES, USER_RESOURCE_TYPE } from '../../../../region-node/scim/schema/index.ts'
import type { AttributeDefinition, ResourceTypeDefinition } from '../../../../region-node/scim/schema/index.ts'

// docs/architecture.md#reliability-rules: bad input of any kind is a SCIM 4xx, never a 500.
function ingest(body: unknown, resourceType: ResourceTypeDefinition): 'ok' | 'scim 4xx' {
  try {
    const result = validateResource(normalizeResource(body, resourceType), resourceType, { mode: 'create' })
    if (typeof result !== 'object' || result === null || Array.isArray(result)) throw new Error('not an object')
    return 'ok'
  } catch (error) {
    if (isScimError(error) && error.status >= 400 && error.status < 500) return 'scim 4xx'
    throw error
  }
}

const randomCase = (text: string) =>
  fc.array(fc.boolean(), { minLength: text.length, maxLength: text.length }).map((upper) =>
    [...text].map((char, index) => (upper[index] === true ? char.toUpperCase() : char.toLowerCase())).join(''),
  )

const anyJson = fc.jsonValue({ maxDepth: 3 })

/** A value that is usually right for `definition`, in the shapes providers use, and sometimes any JSON. */
function valueFor(definition: AttributeDefinition, depth = 0): fc.Arbitrary<unknown> {
  const single = singleValueFor(definition, depth)
  const nearlyRight = definition.multiValued ? fc.oneof(fc.array(single, { maxLength: 3 }), single) : fc.oneof({ weight: 4, arbitrary: single }, { weight: 1, arbitrary: fc.array(single, { maxLength: 2 }) })
  return fc.oneof({ weight: 8, arbitrary: nearlyRight }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: anyJson })
}

function singleValueFor(definition: AttributeDefinition, depth: number): fc.Arbitrary<unknown> {
  switch (definition.type) {
    case 'boolean':
      return fc.oneof(fc.boolean(), fc.constantFrom('true', 'False', 'TRUE', 'yes'))
    case 'integer':
    case 'decimal':
      return fc.oneof(fc.integer(), fc.double())
    case 'dateTime':
      return fc.oneof(fc.date({ noInvalidDate: true }).map((date) => date.toISOString()), fc.string())
    case 'binary':
      return fc.oneof(fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes).toString('base64')), fc.string())
    case 'complex': {
      if (depth > 0) return anyJson
      const entries = (definition.subAttributes ?? []).map((sub) => fc.tuple(randomCase(sub.name), valueFor(sub, depth + 1)))
      return fc.oneof(
        fc.subarray(entries).chain((chosen) => fc.tuple(...chosen)).map((pairs) => Object.fromEntries(pairs)),
        fc.string(),
      )
    }
    default:
      return fc.oneof({ weight: 5, arbitrary: fc.string({ minLength: 1 }) }, { weight: 1, arbitrary: fc.constantFrom('', ' ') })
  }
}

function attributesArbitrary(attributes: readonly AttributeDefinition[]) {
  const entries = attributes.map((attribute) => fc.tuple(randomCase(attribute.name), valueFor(attribute)))
  return fc.subarray(entries).chain((chosen) => fc.tuple(...chosen)).map((pairs) => Object.fromEntries(pairs) as Record<string, unknown>)
}

/** Bodies that hit real attribute names (any case) with mostly plausible values, plus junk keys. */
function bodyArbitrary(resourceType: ResourceTypeDefinition) {
  const required = resourceType.schema.attributes.filter((attribute) => attribute.required)
  return fc
    .tuple(
      fc.tuple(...required.map((attribute) => fc.tuple(fc.constant(attribute.name), singleValueFor(attribute, 0)))),
      attributesArbitrary(resourceType.schema.attributes),
      fc.tuple(...resourceType.extensions.map(({ schema }) => fc.tuple(randomCase(schema.id), attributesArbitrary(schema.attributes)))),
      fc.dictionary(fc.string(), anyJson, { maxKeys: 2 }),
      fc.record({ schemas: fc.constant(['urn:scim:schemas:core:2.0']), id: fc.constantFrom(null, 'x'), externalId: fc.oneof(fc.string(), fc.constant(null)) }, { requiredKeys: [] }),
    )
    .map(([requiredPairs, core, extensions, junk, common]) => ({
      ...junk,
      ...common,
      ...Object.fromEntries(requiredPairs),
      ...core,
      ...Object.fromEntries(extensions),
    }))
}

t.test('arbitrary JSON bodies: an object or a SCIM 4xx, nothing else', async (t) => {
  for (const resourceType of RESOURCE_TYPES) {
    fc.assert(fc.property(fc.jsonValue(), (body) => ['ok', 'scim 4xx'].includes(ingest(body, resourceType))), { numRuns: 500 })
  }
  t.pass('fc.jsonValue')
})

t.test('bodies built from real attribute names: an object or a SCIM 4xx', async (t) => {
  for (const resourceType of [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE]) {
    const outcomes = { ok: 0, 'scim 4xx': 0 }
    fc.assert(
      fc.property(bodyArbitrary(resourceType), (body) => {
        outcomes[ingest(body, resourceType)]++
        return true
      }),
      { numRuns: 1000 },
    )
    // The generator must reach the success path often, not only the errors.
    t.ok(outcomes.ok > 100 && outcomes['scim 4xx'] > 100, `${resourceType.name}: ${JSON.stringify(outcomes)}`)
  }
})

t.test('normalizing is idempotent on what it accepts', async (t) => {
  fc.assert(
    fc.property(bodyArbitrary(USER_RESOURCE_TYPE), (body) => {
      let once
      try {
        once = normalizeResource(body, USER_RESOURCE_TYPE)
      } catch {
        return true
      }
      return JSON.stringify(normalizeResource(once, USER_RESOURCE_TYPE)) === JSON.stringify(once)
    }),
    { numRuns: 500 },
  )
  t.pass('idempotent')
})
