// Development secrets (a public token pepper, identity keys generated under
// the local data folder) are used only when asked for with
// SCIMGATE_DEV_SECRETS=1, which `scimgate dev` (npm start) sets for the
// processes it starts. Without it every process fails closed: a gateway or
// node missing a real secret refuses to start and lists what is missing.

const VALUES: Readonly<Record<string, boolean>> = { '1': true, true: true, '0': false, false: false, '': false }

/** True when SCIMGATE_DEV_SECRETS asks for the development secrets. */
export function devSecretsRequested(env: Readonly<Record<string, string | undefined>>): boolean {
  return VALUES[env.SCIMGATE_DEV_SECRETS?.trim().toLowerCase() ?? ''] === true
}

/** What is wrong with SCIMGATE_DEV_SECRETS itself. */
export function devSecretsProblems(env: Readonly<Record<string, string | undefined>>): string[] {
  const value = env.SCIMGATE_DEV_SECRETS?.trim().toLowerCase() ?? ''
  if (!(value in VALUES)) return ['SCIMGATE_DEV_SECRETS: must be 1 or 0']
  if (VALUES[value] === true && env.NODE_ENV === 'production') return ['SCIMGATE_DEV_SECRETS: development secrets are refused when NODE_ENV=production']
  return []
}

/** How a missing secret is named in the list of bad settings. */
export function missingSecret(name: string, what: string): string {
  return `${name}: is required (${what}); only local development may go without it, with SCIMGATE_DEV_SECRETS=1`
}
