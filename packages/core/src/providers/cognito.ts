/**
 * The Amazon Cognito user pool preset: its fixed issuer and key URLs, and `token_use` to take
 * either access tokens or ID tokens, never both.
 */
import type { IssuerConfig } from '../issuer-config.js'
import { fail } from '../options.js'
import { isObject } from '../token.js'
import { list, text } from './validate.js'

/** Options of {@link cognito}. */
export interface CognitoOptions {
  /** The AWS region, e.g. `eu-west-1`. */
  region: string
  /** The user pool id, e.g. `eu-west-1_AbCdEf123`. */
  userPoolId: string
  /** The app clients allowed: `client_id` of access tokens, `aud` of ID tokens. */
  clientIds: readonly string[]
  /** Which tokens the API takes: `'access'` (the usual) or `'id'`. */
  tokenUse: 'access' | 'id'
}

/**
 * Amazon Cognito user pools
 * (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html):
 * issuer `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`, keys at its
 * `/.well-known/jwks.json`, RS256. Access tokens carry no `aud`, but `client_id` and
 * `token_use: "access"`; ID tokens carry `aud` = client id and `token_use: "id"`. `token_use` is
 * checked either way, so the other kind is refused. Groups are in `claims['cognito:groups']`.
 */
export function cognito(options: CognitoOptions): IssuerConfig {
  if (!isObject(options)) fail('cognito()', 'needs { region, userPoolId, clientIds, tokenUse }')
  const region = text(
    options.region,
    'cognito().region',
    /^[a-z]{2}(-[a-z]+)+-\d+$/,
    'an AWS region such as eu-west-1',
  )
  const userPoolId = text(
    options.userPoolId,
    'cognito().userPoolId',
    /^[a-z]{2}(-[a-z]+)+-\d+_[A-Za-z0-9]+$/,
    'a user pool id such as eu-west-1_AbCdEf123',
  )
  if (!userPoolId.startsWith(`${region}_`)) {
    fail('cognito().userPoolId', `must be a pool of region ${region}`)
  }
  const clientIds = list(options.clientIds, 'cognito().clientIds')
  const tokenUse: unknown = options.tokenUse
  if (tokenUse !== 'access' && tokenUse !== 'id') {
    fail('cognito().tokenUse', "must be 'access' or 'id'")
  }
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
  const common = {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    algorithms: ['RS256'] as const,
  }
  return tokenUse === 'access'
    ? { ...common, audience: null, clientIds, claims: { token_use: 'access' } }
    : { ...common, audience: clientIds, claims: { token_use: 'id' } }
}
