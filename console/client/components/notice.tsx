import type { ComponentChildren } from 'preact'
import { ApiError } from '../api.ts'

export function Notice(props: { kind: 'info' | 'error' | 'warning' | 'success'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  )
}

/** What a failed call means to a person. */
export function ErrorNotice(props: { error: unknown }) {
  const error = props.error
  if (error instanceof ApiError && error.status === 403) return <Notice kind="error">You may not see or change this: {error.message}</Notice>
  return <Notice kind="error">{error instanceof Error ? error.message : 'Something went wrong.'}</Notice>
}
