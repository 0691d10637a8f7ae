import type { ComponentChildren } from 'preact'
import { followLink } from '../router.ts'

export function Link(props: { href: string; children: ComponentChildren; current?: boolean }) {
  return (
    <a href={props.href} onClick={followLink} aria-current={props.current === true ? 'page' : undefined}>
      {props.children}
    </a>
  )
}
