package platform

import "github.com/m365snow/m365snow/fakesnow/encodedquery"

// bindQueryLocked evaluates what a caller's query leaves to the server —
// javascript: GlideSystem calls, RELATIVE*, ON and DYNAMIC operators —
// against the instance's clock and the caller (encodedquery.Bind). The
// bound query carries concrete values, so the read cache keys on them.
// Day, week, month, … boundaries are the caller's: computed in the time
// zone their display values use (userdates.go), so that "Today" is the
// day their dates show (modelled; docs/fidelity.md).
func (i *Instance) bindQueryLocked(c *Caller, q encodedquery.Query) encodedquery.Query {
	env := encodedquery.Env{Now: i.clock.Now(), Loc: i.userDatesLocked(c).loc}
	if c != nil {
		env.UserID, env.UserName = c.SysID, c.UserName
	}
	return q.Bind(env)
}
