// Package platform is the ServiceNow instance underneath the app: a
// dictionary-driven record store, the Table API, basic auth, ServiceNow OAuth
// (/oauth_token.do), external OIDC bearer tokens, interactive sessions
// (/login.do), roles and table ACLs, application scopes with the runtime
// cross-scope policy, the system log and the outbound HTTP log.
//
// Scoped applications run on it through AppContext, which applies the
// cross-scope policy to every table access and logs every outbound call;
// an app never touches the store directly. Wire details follow
// reference/servicenow.md; where that reference marks a detail unconfirmed,
// the choice made here is noted next to the code and in the README.
package platform
