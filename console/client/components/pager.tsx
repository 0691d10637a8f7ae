import { navigate } from '../router.ts'

/** Cursor paging: the next page's cursor goes into the URL; "First page" drops it. */
export function Pager(props: { url: URL; nextCursor: string | null; label: string }) {
  const withCursor = (cursor: string | undefined): string => {
    const next = new URL(props.url.href)
    if (cursor === undefined) next.searchParams.delete('cursor')
    else next.searchParams.set('cursor', cursor)
    return `${next.pathname}${next.search}`
  }
  const onFirst = props.url.searchParams.get('cursor') === null
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" class="secondary" disabled={onFirst} onClick={() => navigate(withCursor(undefined))}>
        First page
      </button>
      <button type="button" disabled={props.nextCursor === null} onClick={() => props.nextCursor !== null && navigate(withCursor(props.nextCursor))}>
        Next page
      </button>
    </nav>
  )
}
