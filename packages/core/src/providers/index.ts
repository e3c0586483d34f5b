/**
 * Provider presets: each returns a plain {@link IssuerConfig} that encodes one identity provider's
 * documented token shape (issuer spelling(s), key source, where its audience, client and scopes
 * live, and the claims that tell its access tokens from its ID tokens), so that its typical wrong
 * tokens are refused by the issuer entry alone, with no per-route rule. Spread and override any
 * field: `{ ...auth0({ domain, audience }), clockTolerance: 30 }`.
 */
export { auth0, type Auth0Options } from './auth0.js'
export { clerk, type ClerkOptions } from './clerk.js'
export { cognito, type CognitoOptions } from './cognito.js'
export { firebase, google, type FirebaseOptions, type GoogleOptions } from './google.js'
export { keycloak, type KeycloakOptions } from './keycloak.js'
export { entraId, type EntraIdOptions } from './microsoft.js'
export { okta, type OktaOptions } from './okta.js'
