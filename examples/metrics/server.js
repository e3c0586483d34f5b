/**
 * Runs the metrics example on its own: `node examples/metrics/server.js`, then
 * `curl http://127.0.0.1:3000/metrics`. With ISSUER unset it starts a local OpenID provider in
 * the same process and prints a token to call the API with.
 */
import { API_AUDIENCE, startProvider } from '../provider.js'
import { buildMetricsApp } from './app.js'

const port = Number(process.env.PORT ?? 3000)
const provider = process.env.ISSUER === undefined ? await startProvider() : undefined
const issuer = process.env.ISSUER ?? /** @type {NonNullable<typeof provider>} */ (provider).issuer

const app = await buildMetricsApp({
  auth: {
    issuers: [
      { issuer, audience: process.env.AUDIENCE ?? API_AUDIENCE, discovery: true, typ: 'at+jwt' },
    ],
  },
})
await app.listen({ port, host: '127.0.0.1' })

if (provider !== undefined) {
  const token = await provider.token('orders-service')
  console.log(`curl -H "Authorization: Bearer ${token}" http://127.0.0.1:${String(port)}/orders`)
}
console.log(`curl http://127.0.0.1:${String(port)}/metrics`)

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, () => {
    void app.close().then(() => provider?.stop())
  })
}
