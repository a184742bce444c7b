package platform

import "github.com/m365snow/m365snow/fakesnow/encodedquery"

// bindQueryLocked evaluates what a caller's query leaves to the server —
// javascript: GlideSystem calls, RELATIVE*, ON and DYNAMIC operators —
// against the instance's clock and the caller (encodedquery.Bind). The
// bound query carries concrete values, so the read cache keys on them.
// Time zone: UTC, the zone of the fake's users (sys_user.time_zone is not
// modelled).
func (i *Instance) bindQueryLocked(c *Caller, q encodedquery.Query) encodedquery.Query {
	env := encodedquery.Env{Now: i.clock.Now()}
	if c != nil {
		env.UserID, env.UserName = c.SysID, c.UserName
	}
	return q.Bind(env)
}
