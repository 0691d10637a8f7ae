// Every admin route declares the permission a credential needs
// (`config: { permission: 'access:read' }`); the operator's admin credential holds them all.
declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: string
  }
}

export {}
