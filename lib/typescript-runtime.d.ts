export function stripsTypesNatively(version?: string, typescript?: unknown): boolean
export function typeScriptNodeArgs(): string[]
