// Shared by every consumer project (copied in as token.cjs): an HS256 token for the configured
// secret, minted with node:crypto only, so the consumer installs nothing but trustgate.
const { createHmac } = require('node:crypto')

const SECRET = 'consumer-check-secret-of-at-least-32-bytes!'
const ISSUER = 'https://issuer.consumer.test'
const AUDIENCE = 'https://api.consumer.test'

function b64(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

function mint() {
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'consumer', scope: 'read', iat: now, exp: now + 300 })}`
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`
}

// Requests /me without and with the token; throws unless the answers are 401 and 200.
async function check(base) {
  const anonymous = await fetch(`${base}/me`)
  if (anonymous.status !== 401) throw new Error(`no token: expected 401, got ${anonymous.status}`)
  const answer = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${mint()}` } })
  const body = await answer.json()
  if (answer.status !== 200 || body.key !== `${ISSUER}|consumer`) {
    throw new Error(
      `token: expected 200 with the principal, got ${answer.status} ${JSON.stringify(body)}`,
    )
  }
}

module.exports = { SECRET, ISSUER, AUDIENCE, check }
