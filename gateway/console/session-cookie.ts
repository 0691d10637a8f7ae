import type { FastifyReply, FastifyRequest } from 'fastify'

// `__Host-` makes the browser insist on Secure, Path=/ and no Domain; plain
// http on localhost cannot carry a Secure cookie, so it gets the plain name.
const SECURE_NAME = '__Host-scimgate-console'
const LOCAL_NAME = 'scimgate-console'

/** Plain http is allowed on the loopback only; everywhere else the cookie is Secure. */
export function isLocalRequest(request: FastifyRequest): boolean {
  return ['localhost', '127.0.0.1', '[::1]', '::1'].includes(request.hostname) || request.hostname.endsWith('.localhost')
}

export function readSessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie
  if (header === undefined) return undefined
  const wanted = isLocalRequest(request) ? [SECURE_NAME, LOCAL_NAME] : [SECURE_NAME]
  for (const part of header.split(';')) {
    const index = part.indexOf('=')
    if (index < 0) continue
    const name = part.slice(0, index).trim()
    if (wanted.includes(name)) return part.slice(index + 1).trim()
  }
  return undefined
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, id: string, maxAgeSeconds: number): void {
  const local = isLocalRequest(request)
  const attributes = [`${local ? LOCAL_NAME : SECURE_NAME}=${id}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`]
  if (!local) attributes.push('Secure')
  reply.header('set-cookie', attributes.join('; '))
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  setSessionCookie(request, reply, '', 0)
}
