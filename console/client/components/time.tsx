export function Time(props: { value: string | null | undefined; empty?: string }) {
  if (props.value === null || props.value === undefined) return <span>{props.empty ?? '—'}</span>
  const date = new Date(props.value)
  return <time dateTime={props.value}>{Number.isNaN(date.getTime()) ? props.value : date.toLocaleString()}</time>
}
