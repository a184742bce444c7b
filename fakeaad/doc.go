// Package fakeaad is an in-memory stand-in for Azure AD (Microsoft Entra ID)
// as the Microsoft 365 support integration and its clients meet it: the v1
// and v2 token endpoints (client credentials with secrets or certificate
// assertions, resource-owner password, authorization code with PKCE,
// refresh tokens, device code, on-behalf-of), the authorize endpoint with a
// server-rendered sign-in page and a single sign-on cookie, the device
// verification page, UserRealm, OIDC discovery with the real issuer forms,
// instance discovery, JWKS published ahead of rotation, Entra's error
// bodies with real AADSTS codes, blocked states (disabled app or user, MFA,
// Conditional Access, expired password, missing consent, throttling), the
// admin consent endpoint, and the Microsoft Graph v1.0 directory surface a
// vendor's automation calls (applications, service principals, app role
// assignments, delegated permission grants, users, directory roles,
// organization, with OData query options), whose consents decide what
// tokens carry. docs/fakeaad-endpoints.md lists every endpoint.
//
// A Server is an http.Handler built by New; it keeps its directory in memory
// behind one mutex, reads time from an injected clock, signs with keys that
// are never generated per world, and can be told to fail through faults or
// its /__admin/ control plane. Wire details follow reference/aad.md; what it
// does not model: federated (ADFS/WS-Trust) users, MSA personal accounts,
// implicit-flow access tokens, real MFA challenges and Conditional Access
// policy evaluation (blocked states stand in for their outcome).
package fakeaad
