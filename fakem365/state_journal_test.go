package fakem365_test

import (
	"strings"
	"testing"

	"github.com/m365snow/m365snow/internal/wellknown"
)

// Regression for issue 11 item 10: export → import dropped the journal of
// calls into the instance (GET /__admin/inbound).
func TestStateKeepsInboundJournal(t *testing.T) {
	e := newEnv(t)
	e.integrate(t, "Basic Auth")
	e.handshake(t, "basic", inboundID, "m365.integration")
	tok := e.appToken(t, contoso, outbound, "outbound-secret", wellknown.ConnectorResource)
	e.do(t, "POST", connector("contoso-snow")+"/cases", tok, map[string]any{"incidentNumber": "INC0010001", "title": "x", "contactEmail": "megan@contoso.com"})
	calls := e.m365.InboundCalls()
	if len(calls) < 2 {
		t.Fatalf("journal %v", calls)
	}
	state, err := e.m365.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	other := newEnv(t)
	if err := other.m365.ImportState(state); err != nil {
		t.Fatal(err)
	}
	got := other.m365.InboundCalls()
	if len(got) != len(calls) {
		t.Fatalf("imported journal has %d calls, want %d:\n%s", len(got), len(calls), state)
	}
	for i := range calls {
		if !got[i].Time.Equal(calls[i].Time) || got[i].URL != calls[i].URL || got[i].Status != calls[i].Status || got[i].Method != calls[i].Method {
			t.Errorf("call %d: %+v, want %+v", i, got[i], calls[i])
		}
	}
	if again, _ := other.m365.ExportState(); string(again) != string(state) {
		t.Fatalf("export → import → export changed:\n%s\n---\n%s", state, again)
	}
	if !strings.Contains(string(state), "inboundCalls:") {
		t.Fatal("no inboundCalls in the export")
	}
}
