// Package fakeaad is an in-memory stand-in for Azure AD (Microsoft Entra ID)
// as the Microsoft 365 support integration meets it: the v1 and v2 token
// endpoints (client credentials and resource-owner password), OIDC discovery
// with the real issuer forms, instance discovery, JWKS, Entra's error bodies
// with real AADSTS codes, and a small Microsoft Graph surface for creating
// app registrations and secrets and for reading directory users.
//
// A Server is an http.Handler built by New; it keeps its directory in memory
// behind one mutex, reads time from an injected clock, signs with keys that
// are never generated per world, and can be told to fail through faults or
// its /__admin/ control plane. Wire details follow reference/aad.md; what it
// does not model: certificate credentials (client_assertion), authorization
// code and device flows, refresh tokens, conditional access.
package fakeaad
