package m365app

import (
	"github.com/m365snow/m365snow/fakesnow/encodedquery"
	"github.com/m365snow/m365snow/fakesnow/platform"
)

// Setup states the app reports to end users.
const (
	StateSetupIncomplete = "setup_incomplete"
	StateFinalIncomplete = "final_incomplete"
	StateComplete        = "complete"
)

// steps are the Setup steps 1–6 and whether each is done, in order.
func steps(s platform.Record) []struct {
	Name string
	Done bool
} {
	return []struct {
		Name string
		Done bool
	}{
		{"consent", s["consent"] == "true"},
		{"outboundProvider", s["outbound_profile"] != ""},
		{"inboundProvider", s["inbound_skipped"] == "true" || s["inbound_entity"] != ""},
		{"integrationUser", s["integration_user_skipped"] == "true" || s["integration_user"] != ""},
		{"repositoryId", s["repository_id"] != ""},
		{"applicationSettings", s["admin_email"] != ""},
	}
}

// state is the setup state: any of steps 1–6 missing, the final step
// (handshake) missing, or complete.
func state(s platform.Record) string {
	for _, st := range steps(s) {
		if !st.Done {
			return StateSetupIncomplete
		}
	}
	if s["handshake_completed"] != "true" {
		return StateFinalIncomplete
	}
	return StateComplete
}

// stateMessage is what an end user sees for a state, or "".
func stateMessage(st string) string {
	switch st {
	case StateSetupIncomplete:
		return MsgSetupIncomplete
	case StateFinalIncomplete:
		return MsgFinalIncomplete
	}
	return ""
}

// inboundMode is what the handshake tells the connector: none (Insights
// only), basic (ServiceNow OAuth) or aad (external OIDC token).
func inboundMode(s platform.Record) string {
	switch {
	case s["inbound_skipped"] == "true":
		return "none"
	case s["external_oidc"] == "true":
		return "aad"
	}
	return "basic"
}

// settings reads the app's settings record (app code, own scope).
func (a *App) settings(ctx *platform.AppContext) (platform.Record, error) {
	// One lock section: two first requests must not each insert a
	// settings record (issue 11, read-modify-write audit).
	s, _, err := ctx.InsertUnless(TableSettings, encodedquery.Query{}, map[string]string{}, false)
	return s, err
}

// saveSettings writes changed fields. Any change to steps 1–6 undoes the
// handshake: the connector must learn the new values with Next.
func (a *App) saveSettings(ctx *platform.AppContext, s platform.Record, values map[string]string) (platform.Record, error) {
	// Compared with the record as it is when written (one lock section),
	// not with s, which an earlier request may have changed since.
	return ctx.Modify(TableSettings, s["sys_id"], func(cur platform.Record) map[string]string {
		changed := false
		for k, v := range values {
			if cur[k] != v {
				changed = true
			}
		}
		if !changed {
			return nil
		}
		if _, touchesHandshake := values["handshake_completed"]; !touchesHandshake {
			values["handshake_completed"] = "false"
		}
		return values
	}, false)
}
