// Package platform is the ServiceNow instance underneath the app: a
// dictionary-driven record store, the Table, Batch, Aggregate and Attachment
// APIs, basic auth (with the basic authentication restriction), ServiceNow
// OAuth (/oauth_token.do), external OIDC bearer tokens, interactive sessions
// (/login.do, /navpage.do's g_ck and X-UserToken), roles and table ACLs,
// application scopes with the runtime cross-scope policy, the system log and
// the outbound HTTP log.
//
// Scoped applications run on it through AppContext, which applies the
// cross-scope policy to every table access and logs every outbound call;
// an app never touches the store directly. Wire details follow
// docs/fidelity.md (which supersedes reference/servicenow.md where they
// differ); where no public source settles a detail, the choice made here is
// noted next to the code and on that page.
package platform
