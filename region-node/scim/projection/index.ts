export { projectResource } from './project-resource.ts'
export { isAttributeReturned } from './is-attribute-returned.ts'
export { parseAttributeList } from './parse-attribute-list.ts'
export type { AttributeRequest } from './attribute-selection.ts'
