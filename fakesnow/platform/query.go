package platform

import "github.com/m365snow/m365snow/fakesnow/encodedquery"

// parseQueryLocked parses an encoded query a caller sent.
func (i *Instance) parseQueryLocked(c *Caller, s string) encodedquery.Query {
	return encodedquery.Parse(s)
}
