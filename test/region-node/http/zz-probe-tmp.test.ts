import t from 'tap'
import { startTestNode } from '/work/main/test/helpers/region-node.ts'
const node = await startTestNode(t)
const r = await node.scim('p', 'POST', 'Users', { userName: 'x', password: 'secret1' })
console.log(r.body)
const p = await node.scim('p', 'PUT', `Users/${r.json().id}`, { userName: 'x', password: 'secret2' })
console.log(p.body)
const q = await node.scim('p', 'PATCH', `Users/${r.json().id}`, { Operations: [{ op: 'replace', value: { password: 'secret3' } }] })
console.log(q.body)
t.pass()
