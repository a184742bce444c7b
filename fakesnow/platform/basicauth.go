package platform

import "fmt"

// The platform's own switch for Basic authentication on inbound calls
// (ServiceNow docs, "Basic authentication restriction"): with
// glide.authenticate.basic_auth.restriction.enforce true, Basic requests
// are refused unless the account is Web service access only, or holds
// snc_basic_auth_api_access (or presents a valid MFA one-time password,
// which the fake does not model). With it false (tracking mode) nothing is
// refused.
const (
	PropBasicAuthRestrictionEnforce = "glide.authenticate.basic_auth.restriction.enforce"
	// RoleBasicAuthAPIAccess is the restriction's exception role.
	RoleBasicAuthAPIAccess = "snc_basic_auth_api_access"
)

// basicRestriction applies the restriction to a caller whose password
// checked out; nil lets the call through.
func (i *Instance) basicRestriction(c *Caller) *authFailure {
	if i.Property(PropBasicAuthRestrictionEnforce) != "true" {
		return nil
	}
	rec, err := i.Get("sys_user", c.SysID)
	if err == nil && rec["web_service_access_only"] == "true" {
		return nil
	}
	if c.HasExactRole(RoleBasicAuthAPIAccess) {
		return nil
	}
	return &authFailure{"Authentication", fmt.Sprintf("Basic authentication refused for user %s: the basic authentication restriction is enforced (%s=true) and the account is neither Web service access only nor granted %s",
		c.UserName, PropBasicAuthRestrictionEnforce, RoleBasicAuthAPIAccess), ""}
}
