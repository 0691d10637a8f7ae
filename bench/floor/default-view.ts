// The node answers a resource in its schema's attribute order (RFC 7643 §7
// `returned` rules applied): the floor does the same, from a plan built once per
// resource type instead of a selection consulted per attribute and request.
import { COMMON_ATTRIBUTES } from '../../region-node/scim/schema/common-attributes.ts'
import type { AttributeDefinition, ResourceTypeDefinition } from '../../region-node/scim/schema/types.ts'

type Json = Record<string, unknown>

interface AttributePlan {
  readonly name: string
  /** Sub-attributes shown, in order; undefined for a simple attribute. */
  readonly subAttributes: readonly string[] | undefined
}

const shown = (attribute: AttributeDefinition): boolean => attribute.returned !== 'never' && attribute.returned !== 'request'

function plan(attributes: readonly AttributeDefinition[]): AttributePlan[] {
  return attributes.filter(shown).map((a) => ({ name: a.name, subAttributes: a.type === 'complex' ? (a.subAttributes ?? []).filter(shown).map((s) => s.name) : undefined }))
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function element(value: unknown, subAttributes: readonly string[]): Json | undefined {
  if (!isObject(value)) return undefined
  const out: Json = {}
  let any = false
  for (const name of subAttributes) {
    const sub = value[name]
    if (sub !== undefined && sub !== null) {
      out[name] = sub
      any = true
    }
  }
  return any ? out : undefined
}

function into(out: Json, source: Json, attributes: readonly AttributePlan[]): void {
  for (const { name, subAttributes } of attributes) {
    const value = source[name]
    if (value === undefined || value === null) continue
    if (subAttributes === undefined) out[name] = value
    else if (!Array.isArray(value)) {
      const projected = element(value, subAttributes)
      if (projected !== undefined) out[name] = projected
    } else {
      const elements: Json[] = []
      for (const item of value) {
        const projected = element(item, subAttributes)
        if (projected !== undefined) elements.push(projected)
      }
      if (elements.length > 0 || value.length === 0) out[name] = elements
    }
  }
}

/** The resource as the node shows it when no attributes/excludedAttributes were asked for. */
export function compileDefaultView(resourceType: ResourceTypeDefinition): (resource: Json) => Json {
  const core = plan([...COMMON_ATTRIBUTES.filter((a) => a.name !== 'meta'), ...resourceType.schema.attributes])
  const meta = plan(COMMON_ATTRIBUTES.filter((a) => a.name === 'meta'))
  const extensions = resourceType.extensions.map(({ schema }) => ({ id: schema.id, attributes: plan(schema.attributes) }))
  return (resource) => {
    const out: Json = {}
    if (Array.isArray(resource.schemas)) out.schemas = resource.schemas
    into(out, resource, core)
    for (const extension of extensions) {
      const value = resource[extension.id]
      if (!isObject(value)) continue
      const projected: Json = {}
      into(projected, value, extension.attributes)
      if (Object.keys(projected).length > 0) out[extension.id] = projected
    }
    into(out, resource, meta)
    return out
  }
}
